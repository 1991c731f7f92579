#include "mamori/auth/audit.h"

#include <openssl/sha.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>
#include <rocksdb/db.h>
#include <stdlib.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "mamori/core/record.h"
#include "mamori/storage/side_db.h"

namespace mamori::auth {
namespace {

constexpr std::string_view kMagic = "mamori-audit-v1";
constexpr char kEntryPrefix = 'a';

void PutU64(std::string* out, std::uint64_t v) {
  for (int s = 56; s >= 0; s -= 8) out->push_back(static_cast<char>((v >> s) & 0xff));
}
void PutU32(std::string* out, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out->push_back(static_cast<char>((v >> s) & 0xff));
}
void PutStr(std::string* out, std::string_view s) {
  PutU32(out, static_cast<std::uint32_t>(s.size()));
  out->append(s);
}

// Reads the canonical encoding back; every read checks the bounds.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool U64(std::uint64_t* v) {
    if (in_.size() < 8) return false;
    *v = 0;
    for (int i = 0; i < 8; ++i) *v = (*v << 8) | static_cast<std::uint8_t>(in_[i]);
    in_.remove_prefix(8);
    return true;
  }
  bool I64(std::int64_t* v) {
    std::uint64_t u;
    if (!U64(&u)) return false;
    *v = static_cast<std::int64_t>(u);
    return true;
  }
  bool U32(std::uint32_t* v) {
    if (in_.size() < 4) return false;
    *v = 0;
    for (int i = 0; i < 4; ++i) *v = (*v << 8) | static_cast<std::uint8_t>(in_[i]);
    in_.remove_prefix(4);
    return true;
  }
  bool Str(std::string* s) {
    std::uint32_t n;
    if (!U32(&n) || in_.size() < n) return false;
    s->assign(in_.substr(0, n));
    in_.remove_prefix(n);
    return true;
  }
  bool Bytes(std::uint8_t* out, std::size_t n) {
    if (in_.size() < n) return false;
    std::memcpy(out, in_.data(), n);
    in_.remove_prefix(n);
    return true;
  }
  bool Literal(std::string_view lit) {
    if (in_.substr(0, lit.size()) != lit) return false;
    in_.remove_prefix(lit.size());
    return true;
  }
  std::size_t left() const { return in_.size(); }

 private:
  std::string_view in_;
};

std::string Key(std::uint64_t seq) {
  std::string k(1, kEntryPrefix);
  PutU64(&k, seq);
  return k;
}

bool SeqOfKey(const rocksdb::Slice& k, std::uint64_t* seq) {
  if (k.size() != 9 || k[0] != kEntryPrefix) return false;
  Reader r(std::string_view(k.data() + 1, 8));
  return r.U64(seq);
}

std::string Hex(const AuditHash& h) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::uint8_t b : h) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

}  // namespace

std::string EncodeAuditEntry(const AuditEntry& e) {
  std::string out(kMagic);
  PutU64(&out, e.seq);
  PutU64(&out, static_cast<std::uint64_t>(e.time_ns));
  PutStr(&out, e.actor);
  PutStr(&out, e.role);
  PutStr(&out, e.peer);
  PutStr(&out, e.method);
  PutStr(&out, e.path);
  PutU32(&out, static_cast<std::uint32_t>(e.params.size()));
  for (const auto& [k, v] : e.params) {
    PutStr(&out, k);
    PutStr(&out, v);
  }
  PutU64(&out, static_cast<std::uint64_t>(static_cast<std::int64_t>(e.status)));
  PutU64(&out, static_cast<std::uint64_t>(e.returned));
  PutU64(&out, static_cast<std::uint64_t>(e.withheld));
  out.append(reinterpret_cast<const char*>(e.prev_hash.data()), e.prev_hash.size());
  return out;
}

AuditHash HashAuditEntry(const AuditEntry& e) {
  const std::string enc = EncodeAuditEntry(e);
  AuditHash h;
  SHA256(reinterpret_cast<const unsigned char*>(enc.data()), enc.size(), h.data());
  return h;
}

Result<AuditEntry> DecodeAuditValue(std::string_view value) {
  Reader r(value);
  AuditEntry e;
  std::uint64_t u;
  std::uint32_t n;
  std::int64_t status;
  bool ok = r.Literal(kMagic) && r.U64(&e.seq) && r.I64(&e.time_ns) && r.Str(&e.actor) &&
            r.Str(&e.role) && r.Str(&e.peer) && r.Str(&e.method) && r.Str(&e.path) && r.U32(&n);
  if (!ok) return Status::Corruption("audit entry: truncated or not an audit entry");
  if (n > r.left() / 8) return Status::Corruption("audit entry: bad parameter count");
  for (std::uint32_t i = 0; i < n; ++i) {
    std::string k, v;
    if (!r.Str(&k) || !r.Str(&v)) return Status::Corruption("audit entry: truncated parameters");
    e.params.emplace_back(std::move(k), std::move(v));
  }
  ok = r.I64(&status) && r.I64(&e.returned) && r.I64(&e.withheld) &&
       r.Bytes(e.prev_hash.data(), e.prev_hash.size()) && r.Bytes(e.hash.data(), e.hash.size());
  if (!ok) return Status::Corruption("audit entry: truncated");
  if (r.left() != 0) return Status::Corruption("audit entry: trailing bytes");
  if (status < 0 || status > 999) return Status::Corruption("audit entry: bad status");
  e.status = static_cast<int>(status);
  (void)u;
  return e;
}

std::string AuditEntryToJson(const AuditEntry& e) {
  nlohmann::json j;
  j["seq"] = e.seq;
  j["time"] = FormatRfc3339(e.time_ns);
  j["time_ns"] = e.time_ns;
  j["actor"] = e.actor;
  j["role"] = e.role;
  j["peer"] = e.peer;
  j["method"] = e.method;
  j["path"] = e.path;
  nlohmann::json params = nlohmann::json::array();
  for (const auto& [k, v] : e.params) params.push_back({k, v});
  j["params"] = std::move(params);
  j["status"] = e.status;
  j["returned"] = e.returned;
  j["withheld"] = e.withheld;
  j["prev_hash"] = Hex(e.prev_hash);
  j["hash"] = Hex(e.hash);
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// --- AuditLog ----------------------------------------------------------------------------------

AuditLog::AuditLog(const AuditOptions& options) : options_(options) {}

AuditLog::~AuditLog() = default;  // side_ closes the database

Result<std::unique_ptr<AuditLog>> AuditLog::Open(const AuditOptions& options,
                                                 prometheus::Registry* registry) {
  if (options.dir.empty()) return Status::InvalidArgument("audit dir: must not be empty");
  std::unique_ptr<AuditLog> log(new AuditLog(options));
  if (Status s = log->OpenDb(); !s.ok()) return s;
  // Only a writer needs the head (a reader reports a bad tail through Verify).
  if (!options.read_only) {
    if (Status s = log->LoadHead(); !s.ok()) return s;
  }
  if (registry != nullptr) {
    log->records_ = &prometheus::BuildCounter()
                         .Name("mamori_audit_records_total")
                         .Help(
                             "Audit trail entries appended (API calls on events, evidence, "
                             "incident changes and rules, and refused attempts at them)")
                         .Register(*registry)
                         .Add({});
    log->errors_ = &prometheus::BuildCounter()
                        .Name("mamori_audit_append_errors_total")
                        .Help("Audit entries that could not be stored (the call got 500)")
                        .Register(*registry)
                        .Add({});
  }
  return log;
}

Status AuditLog::OpenDb() {
  auto side = storage::SideDb::Open(options_.dir, options_.read_only, "audit", "audit log");
  if (!side.ok()) return side.status();
  side_ = std::move(side).value();
  db_ = side_->db();
  return Status::Ok();
}

// The next entry continues from the last stored one. Its hash is taken as stored: a tampered
// tail is Verify's to report, and the chain stays linked to what is on disk.
Status AuditLog::LoadHead() {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  it->SeekForPrev(Key(~std::uint64_t{0}));
  std::uint64_t seq = 0;
  if (!it->Valid() || !SeqOfKey(it->key(), &seq))
    return storage::FromRocksStatus(it->status(), "audit head");
  rocksdb::Slice v = it->value();
  if (v.size() < 32)
    return Status::Corruption("audit entry " + std::to_string(seq) + ": too short");
  std::lock_guard<std::mutex> lock(mu_);
  next_seq_ = seq + 1;
  std::memcpy(head_.data(), v.data() + v.size() - 32, 32);
  return Status::Ok();
}

Result<std::uint64_t> AuditLog::Append(AuditEntry e) {
  if (options_.read_only) return Status::InvalidArgument("audit log opened read-only");
  std::lock_guard<std::mutex> lock(mu_);
  e.seq = next_seq_;
  e.prev_hash = head_;
  std::string value = EncodeAuditEntry(e);
  AuditHash h;
  SHA256(reinterpret_cast<const unsigned char*>(value.data()), value.size(), h.data());
  value.append(reinterpret_cast<const char*>(h.data()), h.size());
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync;
  Status st = storage::FromRocksStatus(db_->Put(wo, Key(e.seq), value), "appending audit entry");
  if (!st.ok()) {
    if (errors_) errors_->Increment();
    return st;
  }
  ++next_seq_;
  head_ = h;
  if (records_) records_->Increment();
  return e.seq;
}

Result<std::vector<AuditEntry>> AuditLog::List(std::uint64_t from_seq, std::int64_t since_ns,
                                               std::size_t limit) const {
  std::vector<AuditEntry> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(Key(from_seq)); it->Valid() && out.size() < limit; it->Next()) {
    std::uint64_t seq;
    if (!SeqOfKey(it->key(), &seq)) break;
    auto e = DecodeAuditValue(std::string_view(it->value().data(), it->value().size()));
    if (!e.ok()) {
      return Status::Corruption("audit entry " + std::to_string(seq) + ": " + e.status().message());
    }
    if (e->time_ns < since_ns) continue;
    out.push_back(std::move(e).value());
  }
  if (Status st = storage::FromRocksStatus(it->status(), "listing audit entries"); !st.ok())
    return st;
  return out;
}

AuditVerifyReport AuditLog::Verify() const {
  AuditVerifyReport rep;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  AuditHash prev{};
  std::uint64_t expect = 1;
  auto fail = [&](std::uint64_t seq, std::string what) {
    rep.ok = false;
    rep.first_bad = seq;
    rep.what = std::move(what);
    return rep;
  };
  for (it->Seek(Key(1)); it->Valid(); it->Next()) {
    std::uint64_t seq;
    if (!SeqOfKey(it->key(), &seq)) break;
    if (seq != expect) {
      return fail(expect, "entry missing (the next stored entry is " + std::to_string(seq) + ")");
    }
    auto e = DecodeAuditValue(std::string_view(it->value().data(), it->value().size()));
    if (!e.ok()) return fail(seq, e.status().message());
    if (e->seq != seq)
      return fail(
          seq, "stored under seq " + std::to_string(seq) + " but says " + std::to_string(e->seq));
    if (e->prev_hash != prev) return fail(seq, "prev_hash is not the previous entry's hash");
    if (HashAuditEntry(*e) != e->hash) {
      return fail(seq, "hash does not match the entry's content (modified)");
    }
    prev = e->hash;
    rep.head = prev;
    ++rep.entries;
    ++expect;
  }
  if (!it->status().ok()) return fail(expect, "reading: " + it->status().ToString());
  return rep;
}

std::uint64_t AuditLog::next_seq() const {
  std::lock_guard<std::mutex> lock(mu_);
  return next_seq_;
}

Result<std::pair<std::uint64_t, AuditHash>> AuditLog::DurableHead() const {
  if (options_.read_only) return Status::InvalidArgument("audit log opened read-only");
  std::pair<std::uint64_t, AuditHash> head;
  {
    std::lock_guard<std::mutex> lock(mu_);
    head = {next_seq_ - 1, head_};
  }
  // Every entry up to `head` is in the WAL already (Put returned); make it durable.
  Status st = storage::FromRocksStatus(db_->SyncWAL(), "syncing the audit log");
  if (!st.ok()) return st;
  return head;
}

}  // namespace mamori::auth
