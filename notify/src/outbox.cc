#include "mamori/notify/outbox.h"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "mamori/storage/side_db.h"

namespace mamori::notify {
namespace {

constexpr char kPending = 'p';
constexpr char kFailed = 'f';
constexpr const char* kNextIdKey = "m:next_id";
constexpr const char* kInstanceKey = "m:instance";

std::string Key(char prefix, const Entry& e) {
  std::string k(9, '\0');
  k[0] = prefix;
  for (int i = 0; i < 8; ++i) k[1 + i] = static_cast<char>((e.id >> (56 - 8 * i)) & 0xff);
  k += e.channel;
  return k;
}

}  // namespace

std::string EncodeEntry(const Entry& e) {
  nlohmann::json j;
  j["v"] = 1;
  j["id"] = e.id;
  j["channel"] = e.channel;
  j["incident_id"] = e.incident_id;
  j["payload"] = e.payload;
  j["created_ns"] = e.created_ns;
  j["attempts"] = e.attempts;
  j["next_attempt_ns"] = e.next_attempt_ns;
  j["last_error"] = e.last_error;
  if (e.failed_ns != 0) j["failed_ns"] = e.failed_ns;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<Entry> DecodeEntry(std::string_view bytes) {
  nlohmann::json j = nlohmann::json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("id") || !j.contains("channel") || !j.contains("payload")) {
    return Status::Corruption("notification entry: not an entry record");
  }
  try {
    Entry e;
    e.id = j.at("id").get<std::uint64_t>();
    e.channel = j.at("channel").get<std::string>();
    e.incident_id = j.value("incident_id", std::uint64_t{0});
    e.payload = j.at("payload").get<std::string>();
    e.created_ns = j.value("created_ns", std::int64_t{0});
    e.attempts = j.value("attempts", std::uint32_t{0});
    e.next_attempt_ns = j.value("next_attempt_ns", std::int64_t{0});
    e.last_error = j.value("last_error", std::string());
    e.failed_ns = j.value("failed_ns", std::int64_t{0});
    return e;
  } catch (const nlohmann::json::exception& ex) {
    return Status::Corruption(std::string("notification entry: ") + ex.what());
  }
}

Outbox::Outbox(const OutboxOptions& options) : options_(options) {}

Outbox::~Outbox() = default;  // side_ closes the database

Result<std::unique_ptr<Outbox>> Outbox::Open(const OutboxOptions& options) {
  if (options.dir.empty()) return Status::InvalidArgument("notify dir: must not be empty");
  std::unique_ptr<Outbox> box(new Outbox(options));
  if (Status s = box->OpenDb(); !s.ok()) return s;
  std::string v;
  rocksdb::Status s = box->db_->Get(rocksdb::ReadOptions(), kNextIdKey, &v);
  if (!s.ok() && !s.IsNotFound()) return storage::FromRocksStatus(s, "reading the outbox next id");
  if (s.ok()) {
    std::uint64_t n = 0;
    for (char c : v) {
      if (c < '0' || c > '9') return Status::Corruption("outbox next id: '" + v + "'");
      n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    box->next_id_.store(n == 0 ? 1 : n);
  }
  s = box->db_->Get(rocksdb::ReadOptions(), kInstanceKey, &box->instance_);
  if (s.IsNotFound() && !options.read_only) {
    std::random_device rd;
    std::uint64_t r = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(r));
    box->instance_ = hex;
    rocksdb::WriteOptions wo;
    wo.sync = true;
    s = box->db_->Put(wo, kInstanceKey, box->instance_);
  }
  if (!s.ok() && !s.IsNotFound()) return storage::FromRocksStatus(s, "outbox instance id");
  std::size_t failed = 0;
  if (Status st = box->ForEach(true, [&](const Entry&) { ++failed; }); !st.ok()) return st;
  box->failed_count_.store(failed);
  return box;
}

Status Outbox::OpenDb() {
  auto side =
      storage::SideDb::Open(options_.dir, options_.read_only, "notify", "notification outbox");
  if (!side.ok()) return side.status();
  side_ = std::move(side).value();
  db_ = side_->db();
  return Status::Ok();
}

Status Outbox::Add(const std::vector<Entry>& entries, std::uint64_t next_id) {
  if (options_.read_only) return Status::InvalidArgument("outbox is read-only");
  rocksdb::WriteBatch batch;
  for (const Entry& e : entries) {
    if (e.id == 0 || e.id >= next_id) {
      return Status::Internal("notification id " + std::to_string(e.id) + " out of range");
    }
    batch.Put(Key(kPending, e), EncodeEntry(e));
  }
  batch.Put(kNextIdKey, std::to_string(next_id));
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync;
  if (Status st = storage::FromRocksStatus(db_->Write(wo, &batch), "writing the outbox"); !st.ok())
    return st;
  next_id_.store(next_id, std::memory_order_release);
  return Status::Ok();
}

Status Outbox::Update(const Entry& e) {
  if (options_.read_only) return Status::InvalidArgument("outbox is read-only");
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync;
  return storage::FromRocksStatus(db_->Put(wo, Key(kPending, e), EncodeEntry(e)),
                                  "updating the outbox");
}

Status Outbox::Remove(const Entry& e) {
  if (options_.read_only) return Status::InvalidArgument("outbox is read-only");
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync;
  return storage::FromRocksStatus(db_->Delete(wo, Key(kPending, e)), "removing from the outbox");
}

Status Outbox::GiveUp(const Entry& e) {
  if (options_.read_only) return Status::InvalidArgument("outbox is read-only");
  rocksdb::WriteBatch batch;
  batch.Delete(Key(kPending, e));
  batch.Put(Key(kFailed, e), EncodeEntry(e));
  // Bounded: past kMaxFailed, the oldest given-up entries go.
  if (failed_count_.load() >= kMaxFailed) {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    std::size_t drop = failed_count_.load() - kMaxFailed + 1, dropped = 0;
    for (it->Seek(std::string(1, kFailed)); it->Valid() && dropped < drop; it->Next()) {
      if (it->key().empty() || it->key()[0] != kFailed) break;
      batch.Delete(it->key());
      ++dropped;
    }
    failed_count_.fetch_sub(dropped);
  }
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync;
  if (Status st = storage::FromRocksStatus(db_->Write(wo, &batch), "giving up an outbox entry");
      !st.ok()) {
    return st;
  }
  failed_count_.fetch_add(1);
  return Status::Ok();
}

Status Outbox::ForEach(bool failed, const std::function<void(const Entry&)>& fn) const {
  const char prefix = failed ? kFailed : kPending;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(std::string(1, prefix)); it->Valid(); it->Next()) {
    rocksdb::Slice k = it->key();
    if (k.size() < 9 || k[0] != prefix) break;
    auto e = DecodeEntry(std::string_view(it->value().data(), it->value().size()));
    if (!e.ok()) return e.status();
    fn(*e);
  }
  return storage::FromRocksStatus(it->status(), "reading the outbox");
}

}  // namespace mamori::notify
