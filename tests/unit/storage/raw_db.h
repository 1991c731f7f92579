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
#include "record_codec.h"

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
  // Records are stored alone or in groups (FORMAT.md, "Record groups"); these read and write
  // one record wherever it is, keeping the rest of its group as it was.
  //
  // The value of record `seq` (its own version 1/2 value); "" with a test failure when absent.
  std::string Rec(std::uint64_t seq) {
    std::uint64_t key;
    std::string value;
    std::vector<internal::GroupItem> items;
    if (!Holder(seq, &key, &value, &items)) {
      ADD_FAILURE() << "no record " << seq;
      return "";
    }
    for (const auto& it : items) {
      if (it.seq == seq) return std::string(it.value);
    }
    ADD_FAILURE() << "no record " << seq;
    return "";
  }
  // Replaces record `seq` in its group (or stores it alone when no value holds it).
  void PutRec(std::uint64_t seq, const std::string& v) {
    std::uint64_t key;
    std::string value;
    std::vector<internal::GroupItem> items;
    if (!Holder(seq, &key, &value, &items) || items.size() == 1) {
      Put("records", internal::RecordKey(seq), v);
      return;
    }
    internal::GroupBuilder b;
    b.Clear(key);
    for (const auto& it : items) b.Add(it.seq, it.seq == seq ? std::string_view(v) : it.value);
    Put("records", internal::RecordKey(key), b.Value());
  }
  // Removes record `seq` from its group (the whole value when it was alone).
  void DeleteRec(std::uint64_t seq) {
    std::uint64_t key;
    std::string value;
    std::vector<internal::GroupItem> items;
    ASSERT_TRUE(Holder(seq, &key, &value, &items)) << "no record " << seq;
    auto rest = internal::DropRecords(key, value, {seq});
    ASSERT_TRUE(rest.ok()) << rest.status().ToString();
    if (rest->empty()) {
      Delete("records", internal::RecordKey(key));
    } else {
      Put("records", internal::RecordKey(key), *rest);
    }
  }
  // Records in the records CF (values and groups split).
  int CountRecords() {
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(rocksdb::ReadOptions(), cf_.at("records")));
    int n = 0;
    std::vector<internal::GroupItem> items;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      EXPECT_TRUE(internal::SplitRecords(internal::GetBigEndian64(it->key().data()),
                                         it->value().ToStringView(), &items)
                      .ok());
      n += static_cast<int>(items.size());
    }
    return n;
  }
  // The key (first seq) of the stored value that holds record `seq`.
  std::uint64_t HolderKey(std::uint64_t seq) {
    std::uint64_t key = 0;
    std::string value;
    std::vector<internal::GroupItem> items;
    EXPECT_TRUE(Holder(seq, &key, &value, &items)) << "no record " << seq;
    return key;
  }
  void SetNextSeq(std::uint64_t next) { Put("meta", "next_seq", internal::RecordKey(next)); }

 private:
  // The value (key, bytes, records) whose key is the last one <= seq and that holds `seq`.
  bool Holder(std::uint64_t seq, std::uint64_t* key, std::string* value,
              std::vector<internal::GroupItem>* items) {
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(rocksdb::ReadOptions(), cf_.at("records")));
    it->SeekForPrev(internal::RecordKey(seq));
    if (!it->Valid() || it->key().size() != 8) return false;
    *key = internal::GetBigEndian64(it->key().data());
    *value = it->value().ToString();
    if (!internal::SplitRecords(*key, *value, items).ok()) return false;
    for (const auto& i : *items) {
      if (i.seq == seq) return true;
    }
    return false;
  }

  rocksdb::DB* db_ = nullptr;
  std::map<std::string, rocksdb::ColumnFamilyHandle*> cf_;
};

}  // namespace mamori::storage::testing
