#include "audit_test_util.h"

#include <rocksdb/db.h>

#include <memory>

#include "mamori/auth/audit.h"

namespace mamori::auth::testutil {

Status TamperAuditEntry(const std::string& dir, std::uint64_t seq, bool rehash) {
  rocksdb::DB* raw = nullptr;
  rocksdb::Options o;
  rocksdb::Status s = rocksdb::DB::Open(o, dir, &raw);
  if (!s.ok()) return Status::IOError(s.ToString());
  std::unique_ptr<rocksdb::DB> db(raw);
  std::string key(1, 'a');
  for (int sh = 56; sh >= 0; sh -= 8) key.push_back(static_cast<char>((seq >> sh) & 0xff));
  std::string value;
  s = db->Get(rocksdb::ReadOptions(), key, &value);
  if (!s.ok()) return Status::NotFound("entry " + std::to_string(seq) + ": " + s.ToString());
  auto e = DecodeAuditValue(value);
  if (!e.ok()) return e.status();
  e->actor = "mallory";
  e->returned += 1;
  if (rehash) e->hash = HashAuditEntry(*e);
  std::string out = EncodeAuditEntry(*e);
  out.append(reinterpret_cast<const char*>(e->hash.data()), e->hash.size());
  s = db->Put(rocksdb::WriteOptions(), key, out);
  if (!s.ok()) return Status::IOError(s.ToString());
  return Status::Ok();
}

Status TruncateAudit(const std::string& dir, std::uint64_t from_seq) {
  rocksdb::DB* raw = nullptr;
  rocksdb::Options o;
  rocksdb::Status s = rocksdb::DB::Open(o, dir, &raw);
  if (!s.ok()) return Status::IOError(s.ToString());
  std::unique_ptr<rocksdb::DB> db(raw);
  std::string from(1, 'a');
  for (int sh = 56; sh >= 0; sh -= 8) from.push_back(static_cast<char>((from_seq >> sh) & 0xff));
  const std::string to = "b";  // past every "a" + seq key
  s = db->DeleteRange(rocksdb::WriteOptions(), db->DefaultColumnFamily(), from, to);
  if (!s.ok()) return Status::IOError(s.ToString());
  return Status::Ok();
}

}  // namespace mamori::auth::testutil
