#include "mamori/incidents/incident_store.h"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "mamori/storage/side_db.h"

namespace mamori::incidents {
namespace {

constexpr char kIncidentPrefix = 'i';
constexpr const char* kNextIdKey = "m:next_id";

std::string IdKey(std::uint64_t id) {
  std::string k(9, '\0');
  k[0] = kIncidentPrefix;
  for (int i = 0; i < 8; ++i) k[1 + i] = static_cast<char>((id >> (56 - 8 * i)) & 0xff);
  return k;
}

bool ParseUint(const std::string& s, std::uint64_t* out) {
  if (s.empty() || s.size() > 19) return false;
  std::uint64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  *out = n;
  return true;
}

}  // namespace

Result<ListOptions> ListOptionsFromParams(
    const std::vector<std::pair<std::string, std::string>>& params) {
  ListOptions o;
  std::vector<std::string> seen;
  for (const auto& [key, value] : params) {
    for (const auto& s : seen) {
      if (s == key) return Status::InvalidArgument(key + ": given more than once");
    }
    seen.push_back(key);
    if (key == "status") {
      IncidentStatus st;
      if (!ParseStatus(value, &st)) {
        return Status::InvalidArgument(
            "status: expected new, acknowledged, in_progress, "
            "resolved, closed or reopened, got '" +
            value + "'");
      }
      o.status = st;
    } else if (key == "severity") {
      Severity sev;
      if (!ParseSeverity(value, &sev)) {
        return Status::InvalidArgument(
            "severity: expected info, low, medium, high or critical, got '" + value + "'");
      }
      o.severity = sev;
    } else if (key == "rule") {
      if (value.empty()) return Status::InvalidArgument("rule: expected a rule id");
      o.rule_id = value;
    } else if (key == "limit") {
      std::uint64_t n = 0;
      if (!ParseUint(value, &n) || n < 1 || n > 1000) {
        return Status::InvalidArgument("limit: expected 1..1000, got '" + value + "'");
      }
      o.limit = n;
    } else if (key == "before" || key == "cursor") {
      std::uint64_t n = 0;
      if (o.before_id) return Status::InvalidArgument(key + ": give before or cursor, not both");
      if (!ParseUint(value, &n)) {
        return Status::InvalidArgument(key + ": expected an incident id, got '" + value + "'");
      }
      o.before_id = n;
    } else {
      return Status::InvalidArgument("unknown parameter '" + key + "'");
    }
  }
  return o;
}

IncidentStore::IncidentStore(const IncidentStoreOptions& options) : options_(options) {}

IncidentStore::~IncidentStore() = default;  // side_ closes the database

Result<std::unique_ptr<IncidentStore>> IncidentStore::Open(const IncidentStoreOptions& options) {
  if (options.dir.empty()) return Status::InvalidArgument("incidents dir: must not be empty");
  std::unique_ptr<IncidentStore> store(new IncidentStore(options));
  if (Status s = store->OpenDb(); !s.ok()) return s;
  if (Status s = store->LoadNextId(); !s.ok()) return s;
  return store;
}

Status IncidentStore::OpenDb() {
  auto side =
      storage::SideDb::Open(options_.dir, options_.read_only, "incidents", "incident database");
  if (!side.ok()) return side.status();
  side_ = std::move(side).value();
  db_ = side_->db();
  return Status::Ok();
}

Status IncidentStore::LoadNextId() {
  std::string v;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), kNextIdKey, &v);
  if (s.IsNotFound()) return Status::Ok();
  if (!s.ok()) return storage::FromRocksStatus(s, "reading incidents next id");
  std::uint64_t n = 0;
  if (!ParseUint(v, &n)) return Status::Corruption("incidents next id: '" + v + "'");
  next_id_.store(n == 0 ? 1 : n, std::memory_order_release);
  return Status::Ok();
}

Status IncidentStore::Write(const std::vector<const Incident*>& incidents, std::uint64_t next_id) {
  if (options_.read_only) return Status::InvalidArgument("incidents store is read-only");
  rocksdb::WriteBatch batch;
  for (const Incident* inc : incidents) {
    if (inc->id == 0 || inc->id >= next_id) {
      return Status::Internal("incident id " + std::to_string(inc->id) + " out of range");
    }
    batch.Put(IdKey(inc->id), EncodeIncident(*inc));
  }
  batch.Put(kNextIdKey, std::to_string(next_id));
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync;
  if (Status st = storage::FromRocksStatus(db_->Write(wo, &batch), "writing incidents"); !st.ok())
    return st;
  next_id_.store(next_id, std::memory_order_release);
  return Status::Ok();
}

Result<std::optional<Incident>> IncidentStore::Get(std::uint64_t id) const {
  std::string v;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), IdKey(id), &v);
  if (s.IsNotFound()) return std::optional<Incident>();
  if (!s.ok()) return storage::FromRocksStatus(s, "reading incident " + std::to_string(id));
  auto inc = DecodeIncident(v);
  if (!inc.ok()) return inc.status();
  return std::optional<Incident>(std::move(inc).value());
}

Result<std::vector<Incident>> IncidentStore::List(const ListOptions& options) const {
  std::vector<Incident> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  if (options.before_id) {
    if (*options.before_id <= 1) return out;
    it->SeekForPrev(IdKey(*options.before_id - 1));
  } else {
    it->SeekForPrev(IdKey(~std::uint64_t{0}));
  }
  for (; it->Valid() && out.size() < options.limit; it->Prev()) {
    rocksdb::Slice k = it->key();
    if (k.size() != 9 || k[0] != kIncidentPrefix) break;
    auto inc = DecodeIncident(std::string_view(it->value().data(), it->value().size()));
    if (!inc.ok()) return inc.status();
    if (options.status && inc->status != *options.status) continue;
    if (options.severity && inc->severity != *options.severity) continue;
    if (options.rule_id && inc->rule_id != *options.rule_id) continue;
    out.push_back(std::move(inc).value());
  }
  if (!it->status().ok()) return storage::FromRocksStatus(it->status(), "listing incidents");
  return out;
}

Status IncidentStore::ForEach(const std::function<void(const Incident&)>& fn) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(IdKey(0)); it->Valid(); it->Next()) {
    rocksdb::Slice k = it->key();
    if (k.size() != 9 || k[0] != kIncidentPrefix) break;
    auto inc = DecodeIncident(std::string_view(it->value().data(), it->value().size()));
    if (!inc.ok()) return inc.status();
    fn(*inc);
  }
  return storage::FromRocksStatus(it->status(), "reading incidents");
}

}  // namespace mamori::incidents
