// Internal: reads the records column family record by record, whether a value holds one record
// or a group of them (FORMAT.md, "Record groups"). Internal to storage/.
//
// Records are in seq order. A group stored under key K holds records with seqs >= K and below
// the next key, so the record with seq S is in the last value whose key is <= S: Seek() starts
// there (SeekForPrev) and moves on to the next value when S is past the group's last record.
//
// A value whose group framing is bad is yielded as one record with the key's seq and the whole
// value (flag malformed()), which DecodeRecord then rejects: the caller reports that seq as
// corrupt, and the records that were in it are missing from the chain, so `verify` names them.
// Seek() to a seq such a value may hold stops on it (its seq may then be below the target).
// A key that is not 8 bytes stops the cursor with a Corruption status.
//
// Thread-safety: one thread at a time (like the RocksDB iterator it wraps). The views it returns
// stay valid until the cursor moves.
#pragma once

#include <rocksdb/db.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "keys.h"
#include "mamori/core/status.h"
#include "record_codec.h"

namespace mamori::storage::internal {

// `s` (from a RecordCursor) with `what: ` put before its message; the same code.
inline Status WithContext(const Status& s, std::string_view what) {
  const std::string m = std::string(what) + ": " + s.message();
  return s.code() == Status::Code::kCorruption ? Status::Corruption(m) : Status::IOError(m);
}

class RecordCursor {
 public:
  // Takes ownership of an iterator over the records CF.
  explicit RecordCursor(rocksdb::Iterator* it) : it_(it) {}

  bool Valid() const { return at_ < items_.size(); }
  std::uint64_t seq() const { return items_[at_].seq; }
  std::string_view value() const { return items_[at_].value; }
  // The key (seq) of the stored value holding the current record.
  std::uint64_t value_key() const { return key_; }
  // The current value's group framing is bad (see the top of the file).
  bool malformed() const { return malformed_; }
  // Not ok when RocksDB failed or a key was not 8 bytes.
  Status status() const {
    if (!status_.ok()) return status_;
    if (!it_->status().ok()) return Status::IOError("records: " + it_->status().ToString());
    return Status::Ok();
  }

  // The first record with seq >= target.
  void Seek(std::uint64_t target) {
    Clear();
    key_buf_.clear();
    PutBigEndian64(&key_buf_, target);
    it_->SeekForPrev(key_buf_);
    if (it_->Valid()) {
      if (!Load()) return;
      // A malformed value may hold `target`: stay on it so that the caller sees the damage
      // (its record fails to decode) instead of skipping over the records it held.
      if (malformed_) return;
      while (at_ < items_.size() && items_[at_].seq < target) ++at_;
      if (at_ == items_.size()) NextValue();
      return;
    }
    if (!it_->status().ok()) return;
    it_->Seek(key_buf_);
    if (it_->Valid()) Load();
  }

  // The last record.
  void SeekToLast() {
    Clear();
    it_->SeekToLast();
    if (it_->Valid() && Load()) at_ = items_.size() - 1;
  }

  void Next() {
    if (++at_ < items_.size()) return;
    NextValue();
  }

  // Positions at record `seq`; false when there is none (or on an error: see status()). Cheap
  // when `seq` is in the value the cursor is already on.
  bool Find(std::uint64_t seq) {
    if (!items_.empty() && status_.ok() && seq >= key_ && seq <= items_.back().seq) {
      for (std::size_t i = 0; i < items_.size(); ++i) {
        if (items_[i].seq == seq) {
          at_ = i;
          return true;
        }
      }
      return false;
    }
    Seek(seq);
    return Valid() && this->seq() == seq;
  }

 private:
  void Clear() {
    items_.clear();
    at_ = 0;
    malformed_ = false;
  }

  void NextValue() {
    Clear();
    it_->Next();
    if (it_->Valid()) Load();
  }

  // Splits the value under the iterator into items_; false (and no items) on a bad key.
  bool Load() {
    const rocksdb::Slice k = it_->key();
    if (k.size() != 8) {
      status_ = Status::Corruption("records: a key is not 8 bytes");
      Clear();
      return false;
    }
    key_ = GetBigEndian64(k.data());
    const std::string_view v = it_->value().ToStringView();
    if (!SplitRecords(key_, v, &items_).ok()) {
      malformed_ = true;
      items_.assign(1, GroupItem{key_, v});
    }
    at_ = 0;
    return true;
  }

  std::unique_ptr<rocksdb::Iterator> it_;
  std::vector<GroupItem> items_;
  std::size_t at_ = 0;
  std::uint64_t key_ = 0;
  bool malformed_ = false;
  Status status_;
  std::string key_buf_;
};

}  // namespace mamori::storage::internal
