// EvidenceStore: the hash-chain state, the evidence log (checkpoints, disposal records),
// retention and disposal, and ReadEvidence. See evidence_store.h and FORMAT.md.
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <map>
#include <memory>

#include "keys.h"
#include "mamori/storage/evidence_store.h"
#include "record_codec.h"
#include "record_cursor.h"
#include "store_internal.h"

namespace mamori::storage {

using internal::ChainExt;
using internal::FromRocks;
using internal::GetBigEndian64;
using internal::PutBigEndian64;

namespace {

// Tombstone value: digest (32) · disposal id (8, big-endian) · [h_seq (32) if chained].
std::string EncodeTombstone(const Hash& digest, std::uint64_t disposal_id, const ChainExt& ext) {
  std::string v(AsBytes(digest));
  PutBigEndian64(&v, disposal_id);
  if (ext.has_hash) v.append(AsBytes(ext.hash));
  return v;
}

bool DecodeTombstone(std::string_view v, ChainItem* item) {
  if (v.size() != 40 && v.size() != 72) return false;
  std::copy(v.begin(), v.begin() + 32, reinterpret_cast<char*>(item->digest.data()));
  item->disposal_id = GetBigEndian64(v.data() + 32);
  item->has_hash = v.size() == 72;
  if (item->has_hash)
    std::copy(v.begin() + 40, v.end(), reinterpret_cast<char*>(item->hash.data()));
  return true;
}

// Removes disposed-of records from the index entries of one index CF. An entry may stand for
// several records (FORMAT.md, "Index entries"): it is found by its (prefix, time, first seq) key
// at or before the record's position, and rewritten without the record (or deleted when none is
// left) when Apply writes the disposal batch. A record without an entry is left alone.
class IndexEditor {
 public:
  IndexEditor(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf)
      : cf_(cf), it_(db->NewIterator(rocksdb::ReadOptions(), cf)) {}

  void Remove(std::string_view prefix, std::int64_t time_ns, std::uint64_t seq) {
    std::string probe(prefix);
    internal::PutTimeSeq(&probe, time_ns, seq);
    it_->SeekForPrev(probe);
    if (!it_->Valid()) return;
    const std::string_view k = it_->key().ToStringView();
    if (k.size() != prefix.size() + 16 || k.substr(0, prefix.size()) != prefix ||
        k.substr(prefix.size(), 8) != std::string_view(probe).substr(prefix.size(), 8)) {
      return;  // no entry with this prefix and time at or before the position
    }
    auto [e, added] = edits_.try_emplace(std::string(k));
    if (added) {
      const std::uint64_t first = GetBigEndian64(k.data() + prefix.size() + 8);
      if (!internal::DecodeSeqs(first, it_->value().ToStringView(), &e->second.seqs)) {
        edits_.erase(e);  // a malformed entry is left as it is
        return;
      }
      e->second.prefix_len = prefix.size();
    }
    auto& seqs = e->second.seqs;
    seqs.erase(std::remove(seqs.begin(), seqs.end(), seq), seqs.end());
  }

  void Apply(rocksdb::WriteBatch* batch) {
    for (auto& [key, edit] : edits_) {
      batch->Delete(cf_, key);
      if (edit.seqs.empty()) continue;
      std::string k = key.substr(0, edit.prefix_len + 8);
      PutBigEndian64(&k, edit.seqs.front());
      std::string v;
      internal::PutSeqDeltas(&v, edit.seqs.data(), edit.seqs.size());
      batch->Put(cf_, k, v);
    }
  }
  rocksdb::Status status() const { return it_->status(); }

 private:
  struct Edit {
    std::size_t prefix_len = 0;
    std::vector<std::uint64_t> seqs;
  };
  rocksdb::ColumnFamilyHandle* cf_;
  std::unique_ptr<rocksdb::Iterator> it_;
  std::map<std::string, Edit> edits_;
};

bool DecodeHead(std::string_view v, ChainHead* head) {
  if (v.size() != 40) return false;
  head->seq = GetBigEndian64(v.data());
  std::copy(v.begin() + 8, v.end(), reinterpret_cast<char*>(head->hash.data()));
  return true;
}

}  // namespace

ChainHead EvidenceStore::chain_head() const {
  std::lock_guard<std::mutex> lock(head_mu_);
  return head_;
}

Status EvidenceStore::LoadEvidenceState() {
  std::string v;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf_->meta, internal::kMetaChainHead, &v);
  ChainHead head;
  if (s.ok()) {
    if (!DecodeHead(v, &head)) return Status::Corruption("meta chain_head: expected 40 bytes");
  } else if (!s.IsNotFound()) {
    return FromRocks(s, "reading chain head");
  }
  {
    std::lock_guard<std::mutex> lock(head_mu_);
    head_ = head;
  }
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf_->evidence));
  it->SeekToLast();
  if (it->Valid()) {
    if (it->key().size() != 8) return Status::Corruption("evidence: key is not 8 bytes");
    next_entry_id_ = GetBigEndian64(it->key().data()) + 1;
  }
  for (; it->Valid(); it->Prev()) {
    auto e = ParseLogLine(it->value().ToStringView());
    if (e.ok() && e->kind == LogEntry::Kind::kCheckpoint) {
      last_checkpoint_seq_ = e->seq;
      last_checkpoint_audit_ = e->audit;
      break;
    }
  }
  if (!it->status().ok()) return FromRocks(it->status(), "reading the evidence log");
  return Status::Ok();
}

Status EvidenceStore::RegisterKey(const PublicKey& key) {
  if (options_.read_only) return Status::InvalidArgument("RegisterKey on a read-only store");
  std::string pem;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf_->meta, internal::kMetaPublicKey, &pem);
  if (s.ok()) {
    auto stored = PublicKey::FromPem(pem);
    if (!stored.ok()) return Status::Corruption("meta public_key: " + stored.status().message());
    if (stored->key_id() != key.key_id()) {
      return Status::InvalidArgument("the signing key (id " + key.key_id() +
                                     ") is not the key of this store (id " + stored->key_id() +
                                     "); restore the original key file");
    }
    return Status::Ok();
  }
  if (!s.IsNotFound()) return FromRocks(s, "reading the public key");
  rocksdb::WriteOptions wo;
  wo.sync = true;
  s = db_->Put(wo, cf_->meta, internal::kMetaPublicKey, key.pem());
  return s.ok() ? Status::Ok() : FromRocks(s, "writing the public key");
}

Result<std::optional<LogEntry>> EvidenceStore::AddCheckpoint(
    const SigningKey& key, std::int64_t now_ns, const std::optional<ExtraAnchor>& audit) {
  if (options_.read_only) return Status::InvalidArgument("AddCheckpoint on a read-only store");
  const ChainHead head = chain_head();
  if (head.seq == 0) return std::optional<LogEntry>();
  if (head.seq == last_checkpoint_seq_ && (!audit || audit == last_checkpoint_audit_)) {
    return std::optional<LogEntry>();
  }
  // The records the checkpoint covers must be durable before it is published anywhere.
  if (rocksdb::Status s = db_->SyncWAL(); !s.ok()) return FromRocks(s, "syncing the WAL");
  LogEntry e;
  e.kind = LogEntry::Kind::kCheckpoint;
  e.id = next_entry_id_;
  e.time_ns = now_ns;
  e.seq = head.seq;
  e.head = head.hash;
  e.audit = audit;
  SignEntry(key, &e);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  rocksdb::Status s = db_->Put(wo, cf_->evidence, internal::RecordKey(e.id), e.Line());
  if (!s.ok()) return FromRocks(s, "writing checkpoint");
  ++next_entry_id_;
  last_checkpoint_seq_ = head.seq;
  last_checkpoint_audit_ = audit;
  return std::optional<LogEntry>(std::move(e));
}

Result<std::vector<LogEntry>> EvidenceStore::Dispose(const RetentionPolicy& policy,
                                                     const SigningKey& key, std::int64_t now_ns) {
  if (options_.read_only) return Status::InvalidArgument("Dispose on a read-only store");
  std::array<std::optional<std::int64_t>, 3> cutoff;
  std::optional<std::int64_t> latest;
  for (int c = 0; c < 3; ++c) {
    if (policy.max_age_ns[c] <= 0) continue;
    cutoff[c] = now_ns - policy.max_age_ns[c];
    latest = std::max(latest.value_or(*cutoff[c]), *cutoff[c]);
  }
  std::vector<LogEntry> out;
  if (!latest) return out;
  const std::size_t max_batch = std::max<std::size_t>(policy.max_records_per_disposal, 1);
  std::uint64_t purge_first = UINT64_MAX, purge_last = 0;
  ChainHasher hasher;
  Sha256 set_hash;
  std::uint64_t resume = 1;
  for (;;) {
    rocksdb::WriteBatch batch;
    LogEntry e;
    e.kind = LogEntry::Kind::kDisposal;
    e.id = next_entry_id_;
    e.time_ns = now_ns;
    internal::RecordCursor it(db_->NewIterator(rocksdb::ReadOptions(), cf_->records));
    IndexEditor time_idx(db_, cf_->time_idx), host_idx(db_, cf_->host_idx);
    // The records disposed of, by the key of the value (plain record or group) that holds them:
    // a value loses only those records, the rest of a group stays (FORMAT.md, "Disposal").
    std::map<std::uint64_t, std::vector<std::uint64_t>> edits;
    bool more = false;
    for (it.Seek(resume); it.Valid(); it.Next()) {
      const std::uint64_t seq = it.seq();
      const std::string key = internal::RecordKey(seq);
      Record r;
      ChainExt ext;
      // An unreadable record is never disposed of: it is evidence of tampering.
      if (!internal::DecodeRecord(it.value(), &r, &ext).ok()) continue;
      // Records arrive roughly in receive order; a straggler is caught by the next check.
      if (r.raw.received_ns >= *latest) break;
      const int c = static_cast<int>(r.event.info_class) - 1;
      if (!cutoff[c] || r.raw.received_ns >= *cutoff[c]) continue;
      if (e.count == max_batch) {
        more = true;
        resume = seq;
        break;
      }
      const Hash digest = hasher.RecordDigest(r.raw, r.event.info_class, ext.salt);
      edits[it.value_key()].push_back(seq);
      time_idx.Remove("", r.event.event_time_ns, seq);
      std::string host_prefix;
      internal::PutHostPrefix(&host_prefix, r.event.host);
      host_idx.Remove(host_prefix, r.event.event_time_ns, seq);
      batch.Put(cf_->disposed, key, EncodeTombstone(digest, e.id, ext));
      set_hash.Update(key);
      if (e.count == 0) e.first = seq;
      e.last = seq;
      ++e.count;
      ++e.count_by_class[c];
      e.last_hash = ext.has_hash ? ext.hash : kZeroHash;
    }
    if (Status rs = it.status(); !rs.ok()) {
      return internal::WithContext(rs, "scanning for expired records");
    }
    if (!time_idx.status().ok()) return FromRocks(time_idx.status(), "reading time index");
    if (!host_idx.status().ok()) return FromRocks(host_idx.status(), "reading host index");
    if (e.count == 0) break;
    // Each value without its disposed records: deleted when none is left, else rewritten. (The
    // writer only adds new keys, so the value read here is the one the scan saw.)
    for (const auto& [value_key, seqs] : edits) {
      const std::string key = internal::RecordKey(value_key);
      std::string value;
      if (rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf_->records, key, &value);
          !s.ok()) {
        return FromRocks(s, "reading record value " + std::to_string(value_key));
      }
      Result<std::string> rest = internal::DropRecords(value_key, value, seqs);
      if (!rest.ok()) return rest.status();
      rocksdb::Status s =
          rest->empty() ? batch.Delete(cf_->records, key) : batch.Put(cf_->records, key, *rest);
      if (!s.ok()) return FromRocks(s, "disposing");
      // A group's key may be below the first disposed seq: the purge must compact it too.
      purge_first = std::min(purge_first, value_key);
    }
    time_idx.Apply(&batch);
    host_idx.Apply(&batch);
    e.set = set_hash.Final();
    SignEntry(key, &e);
    batch.Put(cf_->evidence, internal::RecordKey(e.id), e.Line());
    rocksdb::WriteOptions wo;
    wo.sync = true;
    if (rocksdb::Status s = db_->Write(wo, &batch); !s.ok()) return FromRocks(s, "disposing");
    ++next_entry_id_;
    purge_first = std::min(purge_first, e.first);
    purge_last = std::max(purge_last, e.last);
    out.push_back(std::move(e));
    if (!more) break;
  }
  if (!out.empty()) {
    if (Status s = PurgeDisposed(purge_first, purge_last); !s.ok()) return s;
  }
  return out;
}

// `first`..`last`: the records-CF keys to compact; `first` may be the key of a group whose
// first records stay.
Status EvidenceStore::PurgeDisposed(std::uint64_t first, std::uint64_t last) {
  // 1. Memtables to SST files, so that every WAL file holding the disposed bytes is obsolete.
  rocksdb::FlushOptions fo;
  fo.wait = true;
  fo.allow_write_stall = true;
  rocksdb::Status s = db_->Flush(fo, cf_->all);
  if (!s.ok()) return FromRocks(s, "purge: flushing");
  // 2. Rewrite every SST file of the range down to the bottommost level, dropping the deleted
  // values and their tombstones (a snapshot held by a concurrent reader delays this for the
  // keys it can see; the next disposal completes it).
  rocksdb::CompactRangeOptions cro;
  cro.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  cro.exclusive_manual_compaction = false;
  const std::string b = internal::RecordKey(first), e = internal::RecordKey(last + 1);
  const rocksdb::Slice bs(b), es(e);
  s = db_->CompactRange(cro, cf_->records, &bs, &es);
  if (s.ok()) s = db_->CompactRange(cro, cf_->time_idx, nullptr, nullptr);
  if (s.ok()) s = db_->CompactRange(cro, cf_->host_idx, nullptr, nullptr);
  if (!s.ok()) return FromRocks(s, "purge: compacting");
  // 3. Delete obsolete SST and WAL files now (re-enabling deletions purges synchronously).
  s = db_->DisableFileDeletions();
  if (s.ok()) s = db_->EnableFileDeletions(/*force=*/false);
  if (!s.ok()) return FromRocks(s, "purge: deleting obsolete files");
  return Status::Ok();
}

Status EvidenceStore::ReadEvidence(std::uint64_t from, std::uint64_t to, EvidenceView* view,
                                   const std::function<bool(const ChainItem&)>& fn) const {
  const rocksdb::Snapshot* snap = options_.read_only ? nullptr : db_->GetSnapshot();
  struct Release {
    rocksdb::DB* db;
    const rocksdb::Snapshot* snap;
    ~Release() {
      if (snap != nullptr) db->ReleaseSnapshot(snap);
    }
  } release{db_, snap};
  rocksdb::ReadOptions ro;
  ro.snapshot = snap;

  *view = EvidenceView();
  std::unique_ptr<rocksdb::Iterator> ev(db_->NewIterator(ro, cf_->evidence));
  for (ev->SeekToFirst(); ev->Valid(); ev->Next())
    view->entries.emplace_back(ev->value().ToStringView());
  if (!ev->status().ok()) return FromRocks(ev->status(), "reading the evidence log");
  std::string v;
  rocksdb::Status s = db_->Get(ro, cf_->meta, internal::kMetaPublicKey, &view->public_key_pem);
  if (!s.ok() && !s.IsNotFound()) return FromRocks(s, "reading the public key");
  s = db_->Get(ro, cf_->meta, internal::kMetaNextSeq, &v);
  view->next_seq = s.ok() && v.size() == 8 ? GetBigEndian64(v.data()) : 0;
  s = db_->Get(ro, cf_->meta, internal::kMetaChainHead, &v);
  if (s.ok() && !DecodeHead(v, &view->head)) return Status::Corruption("meta chain_head");

  internal::RecordCursor rec(db_->NewIterator(ro, cf_->records));
  std::unique_ptr<rocksdb::Iterator> tomb(db_->NewIterator(ro, cf_->disposed));
  rec.Seek(from);
  tomb->Seek(internal::RecordKey(from));
  auto seq_of = [](rocksdb::Iterator* it) -> std::uint64_t {
    return it->key().size() == 8 ? GetBigEndian64(it->key().data()) : UINT64_MAX;
  };
  ChainItem item;
  for (;;) {
    const bool rv = rec.Valid(), tv = tomb->Valid();
    if (!rv && !tv) break;
    const std::uint64_t rs = rv ? rec.seq() : UINT64_MAX;
    const std::uint64_t ts = tv ? seq_of(tomb.get()) : UINT64_MAX;
    const bool take_record = rv && rs <= ts;
    const std::uint64_t seq = take_record ? rs : ts;
    if (seq == UINT64_MAX) return Status::Corruption("evidence store: a key is not 8 bytes");
    if (to != 0 && seq > to) break;
    item = ChainItem();
    item.seq = seq;
    if (take_record) {
      ChainExt ext;
      item.record.seq = seq;
      item.decode_status = internal::DecodeRecord(rec.value(), &item.record, &ext);
      item.salt = std::move(ext.salt);
      item.has_hash = ext.has_hash;
      item.hash = ext.hash;
      rec.Next();
    } else {
      item.disposed = true;
      if (!DecodeTombstone(tomb->value().ToStringView(), &item)) {
        item.decode_status =
            Status::Corruption("tombstone of " + std::to_string(seq) + ": bad size");
      }
      tomb->Next();
    }
    if (!fn(item)) return Status::Ok();
  }
  if (Status rs = rec.status(); !rs.ok()) return internal::WithContext(rs, "reading records");
  if (!tomb->status().ok()) return FromRocks(tomb->status(), "reading tombstones");
  return Status::Ok();
}

}  // namespace mamori::storage
