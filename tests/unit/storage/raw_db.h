// Raw access to a store's RocksDB database for the storage tests: what a tamperer (or an older
// version of mamori) would see and write, bypassing EvidenceStore.
#pragma once

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "keys.h"

namespace mamori::storage::testing {

// Raw access to the RocksDB database of a (closed) store, as a tamperer would have it.
class RawDb {
 public:
  explicit RawDb(const std::string& dir) {
    rocksdb::DBOptions o;
    std::vector<std::string> names;
    EXPECT_TRUE(rocksdb::DB::ListColumnFamilies(o, dir, &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> descs;
    for (const auto& n : names) descs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    EXPECT_TRUE(rocksdb::DB::Open(o, dir, descs, &handles, &db_).ok());
    for (auto* h : handles) cf_[h->GetName()] = h;
  }
  ~RawDb() {
    for (auto& [n, h] : cf_) db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    delete db_;
  }
  std::string Get(const std::string& cf, const std::string& key) {
    std::string v;
    EXPECT_TRUE(db_->Get(rocksdb::ReadOptions(), cf_.at(cf), key, &v).ok()) << cf;
    return v;
  }
  void Put(const std::string& cf, const std::string& key, const std::string& v) {
    ASSERT_TRUE(db_->Put(rocksdb::WriteOptions(), cf_.at(cf), key, v).ok());
  }
  void Delete(const std::string& cf, const std::string& key) {
    ASSERT_TRUE(db_->Delete(rocksdb::WriteOptions(), cf_.at(cf), key).ok());
  }
  // Entries in a column family.
  int Count(const std::string& cf) {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf_.at(cf)));
    int n = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
    return n;
  }
  std::string Rec(std::uint64_t seq) { return Get("records", internal::RecordKey(seq)); }
  void PutRec(std::uint64_t seq, const std::string& v) {
    Put("records", internal::RecordKey(seq), v);
  }
  void SetNextSeq(std::uint64_t next) { Put("meta", "next_seq", internal::RecordKey(next)); }

 private:
  rocksdb::DB* db_ = nullptr;
  std::map<std::string, rocksdb::ColumnFamilyHandle*> cf_;
};

}  // namespace mamori::storage::testing
