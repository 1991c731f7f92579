#include "mamori/storage/evidence_store.h"

#include <openssl/rand.h>
#include <re2/re2.h>
#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/transaction_log.h>
#include <rocksdb/write_batch.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <utility>

#include "cursor.h"
#include "keys.h"
#include "record_codec.h"
#include "record_cursor.h"
#include "store_internal.h"

namespace mamori::storage {

using internal::FromRocks;
using internal::IndexPos;

namespace {

bool Supported(rocksdb::CompressionType t) {
  const auto all = rocksdb::GetSupportedCompressions();
  return std::find(all.begin(), all.end(), t) != all.end();
}

// LZ4 (or Snappy, whichever this librocksdb has) for every level, the files a memtable flush
// writes (L0) included; LZ4 or ZSTD level 1 at the bottommost level where most data ends up
// (Options::compression). With the same compression at L0 and at the level below, RocksDB moves
// an L0 file down without rewriting it when its keys overlap nothing there ("trivial move"),
// which is always the case for the records CF (seqs only grow): its records are compressed once,
// at flush, and never compacted again. (Earlier versions flushed uncompressed, which forced a
// full rewrite of every record by a compaction: 0.86 s of CPU per 1.5M benchmark messages,
// against 0.5 s more in the flush now.) With `zstd` the L0 files are rewritten once, to ZSTD.
void SetCompression(rocksdb::ColumnFamilyOptions* cf, StoreOptions::Compression c) {
  if (c == StoreOptions::Compression::kNone) {
    cf->compression = rocksdb::kNoCompression;
    cf->bottommost_compression = rocksdb::kNoCompression;
    return;
  }
  const rocksdb::CompressionType fast =
      Supported(rocksdb::kLZ4Compression)      ? rocksdb::kLZ4Compression
      : Supported(rocksdb::kSnappyCompression) ? rocksdb::kSnappyCompression
                                               : rocksdb::kNoCompression;
  cf->compression = fast;
  cf->compression_per_level.assign(cf->num_levels, fast);
  if (c == StoreOptions::Compression::kLz4 || !Supported(rocksdb::kZSTD)) {
    // LZ4 at the bottom too: the compaction that moves flushed records down was a fifth of the
    // daemon's CPU under sustained ingest with ZSTD; LZ4 halves it for ~20 % more disk.
    cf->bottommost_compression = fast;
    return;
  }
  cf->bottommost_compression = rocksdb::kZSTD;
  // ZSTD level 1 instead of RocksDB's default (3): compaction spent most of its CPU in ZSTD;
  // level 1 compacts the benchmark's records in ~30 % less CPU for ~2.5 % more disk.
  cf->bottommost_compression_opts.enabled = true;
  cf->bottommost_compression_opts.level = 1;
}

// Prefixes for memtable insert hints: the memtable remembers where the last key of each
// prefix went, so keys that arrive in order (seqs; event times, mostly) are inserted in O(1)
// instead of a full skiplist search. This about doubles Append throughput.
class HintPrefix final : public rocksdb::SliceTransform {
 public:
  // kAll: one prefix for the whole column family. kHost: the host_idx length + host prefix.
  enum class Kind { kAll, kHost };
  explicit HintPrefix(Kind kind) : kind_(kind) {}
  const char* Name() const override {
    return kind_ == Kind::kAll ? "mamori.HintAll" : "mamori.HintHost";
  }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    if (kind_ == Kind::kAll) return rocksdb::Slice();
    return rocksdb::Slice(key.data(), 4 + HostLen(key));
  }
  bool InDomain(const rocksdb::Slice& key) const override {
    return kind_ == Kind::kAll || (key.size() >= 4 && key.size() >= 4 + HostLen(key));
  }

 private:
  static std::size_t HostLen(const rocksdb::Slice& key) {
    const auto* p = reinterpret_cast<const unsigned char*>(key.data());
    return (std::size_t{p[0]} << 24) | (std::size_t{p[1]} << 16) | (std::size_t{p[2]} << 8) | p[3];
  }
  Kind kind_;
};

rocksdb::ColumnFamilyOptions CfOptions(const std::shared_ptr<rocksdb::Cache>& cache,
                                       std::size_t block_size, HintPrefix::Kind hint,
                                       StoreOptions::Compression compression) {
  rocksdb::ColumnFamilyOptions cf;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.block_size = block_size;
  table.format_version = 5;
  // XXH3 block checksums: Debian's librocksdb is built without SSE 4.2, so its CRC32C (the
  // default) runs a byte-at-a-time loop that showed up in profiles of the flush path.
  table.checksum = rocksdb::kXXH3;
  // Index blocks live in the block cache (bounded by `block_cache_bytes`), not in the table
  // readers: with every SST file open (max_open_files = -1) the readers' own index blocks grew
  // with the store, about 0.2 % of its size (19 MB at 9 GB; gigabytes for a store kept for
  // years). L0 files' blocks stay pinned; index blocks are evicted after data blocks.
  table.cache_index_and_filter_blocks = true;
  table.cache_index_and_filter_blocks_with_high_priority = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  cf.level_compaction_dynamic_level_bytes = true;
  SetCompression(&cf, compression);
  cf.memtable_insert_with_hint_prefix_extractor = std::make_shared<HintPrefix>(hint);
  return cf;
}

std::uint64_t PosOrder(const IndexPos& p) { return internal::BiasTime(p.time_ns); }
bool PosLess(const IndexPos& a, const IndexPos& b) {
  return PosOrder(a) != PosOrder(b) ? PosOrder(a) < PosOrder(b) : a.seq < b.seq;
}

// Filters applied to decoded records (the time range and host come from the index).
struct Matcher {
  const Query& q;
  const RE2* re;
  bool HasFilters() const { return !q.app.empty() || q.max_severity || re != nullptr; }
  bool Matches(const Record& r) const {
    const Event& e = r.event;
    if (!q.host.empty() && e.host != q.host) return false;
    if (!q.app.empty() && e.app != q.app) return false;
    if (q.max_severity && (e.severity < 0 || e.severity > *q.max_severity)) return false;
    if (re != nullptr && !RE2::PartialMatch(e.message, *re)) return false;
    return true;
  }
};

// Where a search walks: keys in [lower, target] of one index, newest (target) first.
struct IndexRange {
  std::string prefix;             // host_idx: the host's prefix; time_idx: empty
  std::string lower;              // prefix + from_ns (inclusive), or just the prefix
  std::string target;             // the newest key allowed: below to_ns (exclusive) and the cursor
  std::optional<IndexPos> upper;  // the newest position allowed (target's), if bounded
};

IndexRange MakeRange(const Query& q) {
  IndexRange r;
  if (!q.host.empty()) internal::PutHostPrefix(&r.prefix, q.host);
  r.lower = r.prefix;
  if (q.from_ns) internal::PutTimeSeq(&r.lower, *q.from_ns, 0);
  std::optional<IndexPos> upper;
  if (q.to_ns) upper = IndexPos{*q.to_ns, 0};  // seq 0 never exists: everything at to_ns is out
  if (!q.cursor.empty()) {
    IndexPos c = *internal::DecodeCursor(q.cursor);  // validated by ValidateQuery
    c.seq -= 1;  // seq >= 1, so (t, seq-1) is the greatest position below the cursor
    if (!upper || PosLess(c, *upper)) upper = c;
  }
  r.target = r.prefix;
  r.upper = upper;
  if (upper) {
    internal::PutTimeSeq(&r.target, upper->time_ns, upper->seq);
  } else {
    r.target.append(16, '\xff');
  }
  return r;
}

}  // namespace

EvidenceStore::EvidenceStore(const StoreOptions& options)
    : options_(options),
      cf_(std::make_unique<Handles>()),
      batch_(new rocksdb::WriteBatch()),
      hasher_(std::make_unique<ChainHasher>()) {}

void EvidenceStore::CloseDb() {
  if (db_ != nullptr) {
    for (auto* h : cf_->all) db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    db_->Close().PermitUncheckedError();
    delete db_;
    db_ = nullptr;
  }
  cf_->all.clear();
}

EvidenceStore::~EvidenceStore() {
  CloseDb();
  if (!cf_->secondary_dir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(cf_->secondary_dir, ec);
  }
}

Result<DiskUsage> EvidenceStore::disk_usage() const {
  DiskUsage u;
  std::uint64_t v = 0;
  if (db_->GetAggregatedIntProperty("rocksdb.total-sst-files-size", &v)) u.sst_bytes = v;
  v = 0;
  if (db_->GetAggregatedIntProperty("rocksdb.estimate-pending-compaction-bytes", &v)) {
    u.compaction_pending_bytes = v;
  }
  v = 0;
  if (db_->GetAggregatedIntProperty("rocksdb.cur-size-all-mem-tables", &v)) u.memtable_bytes = v;
  v = 0;
  if (db_->GetAggregatedIntProperty("rocksdb.estimate-table-readers-mem", &v)) {
    u.table_readers_bytes = v;
  }
  v = 0;  // one cache shared by every column family
  if (db_->GetIntProperty(cf_->records, "rocksdb.block-cache-usage", &v)) u.block_cache_bytes = v;
  if (!options_.read_only) {
    rocksdb::VectorLogPtr wals;
    if (rocksdb::Status s = db_->GetSortedWalFiles(wals); !s.ok()) {
      return Status::IOError("listing WAL files: " + s.ToString());
    }
    for (const auto& f : wals) {
      if (f->Type() == rocksdb::kAliveLogFile) u.wal_bytes += f->SizeFileBytes();
    }
  }
  return u;
}

Result<std::unique_ptr<EvidenceStore>> EvidenceStore::Open(const StoreOptions& options) {
  if (options.dir.empty()) return Status::InvalidArgument("storage dir: must not be empty");
  std::unique_ptr<EvidenceStore> store(new EvidenceStore(options));
  if (Status s = store->OpenDb(); !s.ok()) return s;
  if (Status s = store->LoadNextSeq(); !s.ok()) return s;
  if (Status s = store->LoadEvidenceState(); !s.ok()) return s;
  return store;
}

Status EvidenceStore::OpenDb() {
  namespace fs = std::filesystem;
  const std::string& dir = options_.dir;
  const bool ro = options_.read_only;
  std::error_code ec;
  if (ro) {
    if (!fs::exists(fs::path(dir) / "CURRENT", ec)) {
      return Status::NotFound("storage dir " + dir + ": no store there");
    }
  } else {
    fs::create_directories(dir, ec);
    if (ec) return Status::IOError("storage dir " + dir + ": " + ec.message());
  }

  rocksdb::DBOptions db;
  db.create_if_missing = !ro;
  db.create_missing_column_families = !ro;
  db.max_background_jobs = 2;
  db.keep_log_file_num = 5;
  db.max_open_files = -1;  // required by secondary instances; cheap for our file counts
  db.bytes_per_sync = 1 << 20;
  // One writer thread: concurrent memtable inserts buy nothing, and they disable insert hints.
  db.allow_concurrent_memtable_write = false;

  // Bounded memtables: without this every CF may hold 2 x 64 MiB (RocksDB's default).
  db.db_write_buffer_size = std::max<std::size_t>(options_.memtable_bytes, 4 << 20);
  auto cache = rocksdb::NewLRUCache(options_.block_cache_bytes);
  const auto z = options_.compression;
  auto records_opts = CfOptions(cache, 16 * 1024, HintPrefix::Kind::kAll, z);
  auto time_opts = CfOptions(cache, 16 * 1024, HintPrefix::Kind::kAll, z);
  auto host_opts = CfOptions(cache, 16 * 1024, HintPrefix::Kind::kHost, z);
  records_opts.write_buffer_size = db.db_write_buffer_size / 2;
  time_opts.write_buffer_size = db.db_write_buffer_size / 4;
  host_opts.write_buffer_size = db.db_write_buffer_size / 4;
  const auto disposed_opts = CfOptions(cache, 16 * 1024, HintPrefix::Kind::kAll, z);
  const std::vector<std::string> ours = {internal::kRecordsCf,  internal::kTimeIdxCf,
                                         internal::kHostIdxCf,  internal::kMetaCf,
                                         internal::kDisposedCf, internal::kEvidenceCf};
  // Every column family that exists must be opened, including ones a newer version added.
  std::vector<std::string> names;
  if (rocksdb::DB::ListColumnFamilies(db, dir, &names).ok()) {
    for (const auto& n : ours) {
      if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
    }
  } else {
    names = {rocksdb::kDefaultColumnFamilyName};
    names.insert(names.end(), ours.begin(), ours.end());
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descs;
  for (const auto& n : names) {
    if (n == internal::kRecordsCf) {
      descs.emplace_back(n, records_opts);
    } else if (n == internal::kTimeIdxCf) {
      descs.emplace_back(n, time_opts);
    } else if (n == internal::kHostIdxCf) {
      descs.emplace_back(n, host_opts);
    } else if (n == internal::kDisposedCf) {
      descs.emplace_back(n, disposed_opts);
    } else {
      descs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    }
  }

  rocksdb::Status s;
  if (ro) {
    // A secondary instance: safe while the daemon (the primary) writes, which a plain
    // OpenForReadOnly is not. Its info log goes to a private temporary directory.
    std::string tmpl = (fs::temp_directory_path(ec) / "mamori-secondary-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) return Status::IOError("cannot create a temporary dir");
    cf_->secondary_dir = tmpl;
    // The primary may flush or compact while we read its MANIFEST: retry a few times.
    for (int attempt = 0; attempt < 3; ++attempt) {
      if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(100 * attempt));
      s = rocksdb::DB::OpenAsSecondary(db, dir, tmpl, descs, &cf_->all, &db_);
      if (s.ok()) s = db_->TryCatchUpWithPrimary();
      if (s.ok()) break;
      CloseDb();
    }
  } else {
    s = rocksdb::DB::Open(db, dir, descs, &cf_->all, &db_);
  }
  if (!s.ok()) return FromRocks(s, "opening store " + dir);
  for (auto* h : cf_->all) {
    const std::string& n = h->GetName();
    if (n == internal::kRecordsCf) cf_->records = h;
    if (n == internal::kTimeIdxCf) cf_->time_idx = h;
    if (n == internal::kHostIdxCf) cf_->host_idx = h;
    if (n == internal::kMetaCf) cf_->meta = h;
    if (n == internal::kDisposedCf) cf_->disposed = h;
    if (n == internal::kEvidenceCf) cf_->evidence = h;
  }
  if (!cf_->records || !cf_->time_idx || !cf_->host_idx || !cf_->meta || !cf_->disposed ||
      !cf_->evidence) {
    return Status::Corruption("store " + dir + ": missing column families");
  }
  return Status::Ok();
}

Status EvidenceStore::LoadNextSeq() {
  std::string format;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf_->meta, internal::kMetaFormat, &format);
  // Format 2 (FORMAT.md): index entries may stand for several records, and record values may
  // be version 2. Format 3: record values may be groups of records. This version reads format 1
  // and 2 stores and marks them 3 when it opens them for writing, so that older versions, which
  // would miss records in searches or take groups for corrupt records, refuse them.
  if (s.ok() && format != "1" && format != "2" && format != "3") {
    return Status::Corruption("store format '" + format + "' is not supported by this version");
  }
  if (!s.ok() && !s.IsNotFound()) return FromRocks(s, "reading store format");
  if (!options_.read_only && (s.IsNotFound() || format != "3")) {
    s = db_->Put(rocksdb::WriteOptions(), cf_->meta, internal::kMetaFormat, "3");
    if (!s.ok()) return FromRocks(s, "writing store format");
  }

  std::uint64_t next = 1;
  std::string v;
  s = db_->Get(rocksdb::ReadOptions(), cf_->meta, internal::kMetaNextSeq, &v);
  if (s.ok()) {
    if (v.size() != 8) return Status::Corruption("meta next_seq: expected 8 bytes");
    next = std::max(next, internal::GetBigEndian64(v.data()));
  } else if (!s.IsNotFound()) {
    return FromRocks(s, "reading next_seq");
  }
  // The counter and the records are written in one batch, so they agree; the last record
  // is checked anyway so that a damaged counter can never make sequence numbers repeat.
  // (A malformed last group counts for its key only; next_seq, written with it, still covers
  // the records that were in it.)
  internal::RecordCursor last(db_->NewIterator(rocksdb::ReadOptions(), cf_->records));
  last.SeekToLast();
  if (last.Valid()) {
    next = std::max(next, last.seq() + 1);
  } else if (Status ls = last.status(); !ls.ok()) {
    return internal::WithContext(ls, "reading last record");
  }
  // Disposal may have removed the newest records; their tombstones keep their seqs taken.
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf_->disposed));
  it->SeekToLast();
  if (it->Valid() && it->key().size() == 8) {
    next = std::max(next, internal::GetBigEndian64(it->key().data()) + 1);
  } else if (!it->status().ok()) {
    return FromRocks(it->status(), "reading last tombstone");
  }
  next_seq_.store(next, std::memory_order_release);
  return Status::Ok();
}

Status EvidenceStore::Append(std::vector<Record>& records) {
  return Append(std::span<std::vector<Record>>(&records, 1));
}

Status EvidenceStore::Append(std::span<std::vector<Record>> parts) {
  if (options_.read_only) return Status::InvalidArgument("Append on a read-only store");
  records_.clear();
  for (std::vector<Record>& part : parts) {
    for (Record& r : part) records_.push_back(&r);
  }
  if (records_.empty()) return Status::Ok();
  auto unassign = [&] {
    for (Record* r : records_) r->seq = 0;
  };
  rocksdb::WriteBatch& batch = *batch_;
  batch.Clear();
  std::uint64_t seq = next_seq_.load(std::memory_order_relaxed);
  const bool chain = options_.chain;
  ChainHead head = chain_head();
  if (chain) {
    // One call for the whole batch: RAND_bytes per record would cost more than the hashing.
    salt_buf_.resize(records_.size() * kSaltBytes);
    if (RAND_bytes(reinterpret_cast<unsigned char*>(salt_buf_.data()),
                   static_cast<int>(salt_buf_.size())) != 1) {
      return Status::Internal("RAND_bytes failed");
    }
  }
  // The records go into groups (FORMAT.md, "Record groups"): one RocksDB entry per group
  // instead of one per record, which saves a memtable insert (~3,500 instructions with Debian's
  // librocksdb), a WAL entry header and the per-key work of flushes for every record but one.
  if (!group_) group_ = std::make_unique<internal::GroupBuilder>();
  internal::GroupBuilder& group = *group_;
  auto put_group = [&]() -> rocksdb::Status {
    key_buf_.clear();
    internal::PutBigEndian64(&key_buf_, group.key_seq());
    const rocksdb::Slice key(key_buf_);
    const std::string_view header = group.header();
    if (header.empty()) return batch.Put(cf_->records, key, group.Value());  // one record
    const rocksdb::Slice parts[2] = {rocksdb::Slice(header), rocksdb::Slice(group.items())};
    return batch.Put(cf_->records, rocksdb::SliceParts(&key, 1), rocksdb::SliceParts(parts, 2));
  };
  std::size_t index = 0;
  group.Clear(seq);
  for (Record* p : records_) {
    Record& r = *p;
    r.seq = seq++;
    encode_buf_.clear();
    internal::EncodeRecord(r, &encode_buf_);
    if (chain) {
      const std::string_view salt(salt_buf_.data() + kSaltBytes * index++, kSaltBytes);
      const Hash digest = hasher_->RecordDigest(r.raw, r.event.info_class, salt);
      head.hash = hasher_->Link(head.hash, r.seq, digest);
      head.seq = r.seq;
      internal::AppendChainExt(salt, head.hash, &encode_buf_);
    }
    group.Add(r.seq, encode_buf_);
    rocksdb::Status s;
    if (group.count() == internal::kGroupMaxRecords ||
        group.item_bytes() >= internal::kGroupTargetBytes) {
      s = put_group();
      group.Clear(seq);
    }
    if (!s.ok()) {
      unassign();
      return FromRocks(s, "building write batch");
    }
  }
  if (group.count() > 0) {
    if (rocksdb::Status s = put_group(); !s.ok()) {
      unassign();
      return FromRocks(s, "building write batch");
    }
  }
  if (Status st = PutIndexEntries(records_); !st.ok()) {
    unassign();
    return st;
  }
  key_buf_.clear();
  internal::PutBigEndian64(&key_buf_, seq);
  rocksdb::Status s = batch.Put(cf_->meta, internal::kMetaNextSeq, key_buf_);
  if (s.ok() && chain) {
    key_buf_.clear();
    internal::PutBigEndian64(&key_buf_, head.seq);
    key_buf_.append(AsBytes(head.hash));
    s = batch.Put(cf_->meta, internal::kMetaChainHead, key_buf_);
  }
  if (s.ok()) {
    rocksdb::WriteOptions wo;
    wo.sync = options_.sync;
    s = db_->Write(wo, &batch);
  }
  if (!s.ok()) {
    unassign();
    return FromRocks(s, "appending " + std::to_string(records_.size()) + " records");
  }
  if (chain) {
    std::lock_guard<std::mutex> lock(head_mu_);
    head_ = head;
  }
  next_seq_.store(seq, std::memory_order_release);
  return Status::Ok();
}

// One time_idx entry per distinct event time of the batch and one host_idx entry per distinct
// (host, event time): the entry's key holds the first seq, its value the others (FORMAT.md,
// "Index entries"). Syslog times have a resolution of a second, so at high rates most records of
// a batch share a handful of times: a few entries instead of two per record, each a skiplist
// insert in the memtable, bytes in the WAL, and an SST entry to flush and compact.
// Positions of two entries never interleave: an entry only holds seqs of one batch.
Status EvidenceStore::PutIndexEntries(const std::vector<Record*>& records) {
  rocksdb::WriteBatch& batch = *batch_;
  const std::size_t n = records.size();
  auto time_of = [&](std::uint32_t i) { return records[i]->event.event_time_ns; };
  auto host_of = [&](std::uint32_t i) { return std::string_view(records[i]->event.host); };
  // Stable sorts keep the seqs of equal keys ascending (records are in seq order).
  auto put_groups = [&](rocksdb::ColumnFamilyHandle* cf, bool by_host) -> Status {
    for (std::size_t i = 0; i < n;) {
      const std::uint32_t a = order_[i];
      std::size_t j = i + 1;
      while (j < n && time_of(order_[j]) == time_of(a) &&
             (!by_host || host_of(order_[j]) == host_of(a))) {
        ++j;
      }
      seqs_.clear();
      for (std::size_t k = i; k < j; ++k) seqs_.push_back(records[order_[k]]->seq);
      key_buf_.clear();
      if (by_host) internal::PutHostPrefix(&key_buf_, host_of(a));
      internal::PutTimeSeq(&key_buf_, time_of(a), seqs_.front());
      encode_buf_.clear();
      internal::PutSeqDeltas(&encode_buf_, seqs_.data(), seqs_.size());
      if (rocksdb::Status s = batch.Put(cf, key_buf_, encode_buf_); !s.ok()) {
        return FromRocks(s, "building write batch");
      }
      i = j;
    }
    return Status::Ok();
  };
  order_.resize(n);
  for (std::size_t i = 0; i < n; ++i) order_[i] = static_cast<std::uint32_t>(i);
  auto by_time = [&](std::uint32_t a, std::uint32_t b) { return time_of(a) < time_of(b); };
  // Usually already in time order (one syslog second per batch, say): no sort needed then.
  if (!std::is_sorted(order_.begin(), order_.end(), by_time)) {
    std::stable_sort(order_.begin(), order_.end(), by_time);
  }
  if (Status s = put_groups(cf_->time_idx, false); !s.ok()) return s;
  // host_idx: the records bucketed by host (a counting sort: each bucket stays in seq order),
  // then each bucket in time order; a batch has few hosts, so this beats sorting by host.
  std::unordered_map<std::string_view, std::uint32_t> slot_of_host;
  slots_.resize(n);
  std::vector<std::uint32_t> start;  // per host: where its bucket starts in order_
  for (std::size_t i = 0; i < n; ++i) {
    const auto [it, added] = slot_of_host.try_emplace(
        host_of(static_cast<std::uint32_t>(i)), static_cast<std::uint32_t>(slot_of_host.size()));
    if (added) start.push_back(0);
    slots_[i] = it->second;
    ++start[it->second];
  }
  std::uint32_t at = 0;
  for (std::uint32_t& c : start) at += std::exchange(c, at);  // counts -> bucket starts
  std::vector<std::uint32_t> end = start;
  for (std::size_t i = 0; i < n; ++i) order_[end[slots_[i]]++] = static_cast<std::uint32_t>(i);
  for (std::size_t h = 0; h < start.size(); ++h) {
    const auto b = order_.begin() + start[h], e = order_.begin() + end[h];
    if (!std::is_sorted(b, e, by_time)) std::stable_sort(b, e, by_time);
  }
  return put_groups(cf_->host_idx, true);
}

Result<std::optional<Record>> EvidenceStore::Get(std::uint64_t seq) const {
  internal::RecordCursor c(db_->NewIterator(rocksdb::ReadOptions(), cf_->records));
  if (!c.Find(seq)) {
    if (Status s = c.status(); !s.ok()) {
      return internal::WithContext(s, "reading record " + std::to_string(seq));
    }
    if (c.Valid() && c.malformed()) {
      return Status::Corruption("record " + std::to_string(seq) + ": the record group " +
                                std::to_string(c.value_key()) + " that may hold it is damaged");
    }
    return std::optional<Record>();
  }
  Record r;
  r.seq = seq;
  if (Status d = internal::DecodeRecord(c.value(), &r); !d.ok()) {
    return Status::Corruption("record " + std::to_string(seq) + ": " + d.message());
  }
  return std::optional<Record>(std::move(r));
}

Result<SearchPage> EvidenceStore::Search(const Query& q) const {
  if (Status s = ValidateQuery(q); !s.ok()) return s;
  // Secondary (read-only) instances do not support snapshots; their view only changes on
  // TryCatchUpWithPrimary, which happens at Open.
  const rocksdb::Snapshot* snap = options_.read_only ? nullptr : db_->GetSnapshot();
  SearchPage page;
  Status s = Scan(q, snap, &page);
  if (snap != nullptr) db_->ReleaseSnapshot(snap);
  if (!s.ok()) return s;
  return page;
}

Status EvidenceStore::Scan(const Query& q, const rocksdb::Snapshot* snap, SearchPage* page) const {
  std::unique_ptr<RE2> re;
  if (!q.pattern.empty()) {
    RE2::Options opts;
    opts.set_log_errors(false);
    re = std::make_unique<RE2>(q.pattern, opts);
  }
  const Matcher matcher{q, re.get()};

  const IndexRange range = MakeRange(q);
  rocksdb::ColumnFamilyHandle* index = q.host.empty() ? cf_->time_idx : cf_->host_idx;
  const std::string& prefix = range.prefix;
  const std::string& lower = range.lower;
  const std::string& target = range.target;

  rocksdb::ReadOptions ro;
  ro.snapshot = snap;
  rocksdb::Slice lower_slice(lower);
  if (!lower.empty()) ro.iterate_lower_bound = &lower_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, index));
  it->SeekForPrev(target);

  // The positions of the current index entry not visited yet (seqs ascending; visited from the
  // back, newest first), and their event time. An entry may hold many positions (FORMAT.md).
  std::vector<std::uint64_t> group;
  std::int64_t group_time = 0;
  auto has_more = [&] { return !group.empty() || it->Valid(); };
  // The next position, newest first: false at the end (or on an iterator error).
  auto next = [&](IndexPos* pos, Status* err) {
    while (group.empty()) {
      if (!it->Valid()) return false;
      const rocksdb::Slice k = it->key();
      if (k.size() != prefix.size() + 16) {
        *err = Status::Corruption("index key has a bad size");
        return false;
      }
      const char* suffix = k.data() + prefix.size();
      group_time = internal::UnbiasTime(internal::GetBigEndian64(suffix));
      if (!internal::DecodeSeqs(internal::GetBigEndian64(suffix + 8), it->value().ToStringView(),
                                &group)) {
        *err = Status::Corruption("index entry has a bad value");
        return false;
      }
      // Only the first entry (the one at the target) can hold positions past the bound.
      if (range.upper && group_time == range.upper->time_ns) {
        while (!group.empty() && group.back() > range.upper->seq) group.pop_back();
      }
      it->Prev();
    }
    *pos = {group_time, group.back()};
    group.pop_back();
    return true;
  };

  constexpr std::size_t kChunk = 256;
  std::vector<IndexPos> chunk;
  // Records by seq, group by group: consecutive positions mostly fall in the same group.
  rocksdb::ReadOptions record_ro;  // the snapshot, without the index's bounds
  record_ro.snapshot = snap;
  internal::RecordCursor records(db_->NewIterator(record_ro, cf_->records));
  std::size_t scanned = 0;
  Record scratch;
  while (has_more()) {
    const std::size_t want = q.limit - page->records.size();
    std::size_t n = matcher.HasFilters() ? kChunk : std::min(kChunk, want);
    n = std::max<std::size_t>(1, std::min(n, options_.max_scan_per_search - scanned));
    chunk.clear();
    Status err;
    IndexPos pos;
    while (chunk.size() < n && next(&pos, &err)) chunk.push_back(pos);
    if (!err.ok()) return err;
    if (!it->status().ok()) return FromRocks(it->status(), "scanning index");
    if (chunk.empty()) break;
    scanned += chunk.size();
    for (std::size_t i = 0; i < chunk.size(); ++i) {
      const std::uint64_t seq = chunk[i].seq;
      if (!records.Find(seq)) {
        if (Status rs = records.status(); !rs.ok()) {
          return internal::WithContext(rs, "reading record " + std::to_string(seq));
        }
        return Status::Corruption("index entry for missing record " + std::to_string(seq));
      }
      scratch.seq = seq;
      Status d = internal::DecodeRecord(records.value(), &scratch);
      if (!d.ok()) return Status::Corruption("record " + std::to_string(seq) + ": " + d.message());
      if (!matcher.Matches(scratch)) continue;
      page->records.push_back(std::move(scratch));
      scratch = Record();
      if (page->records.size() == q.limit) {
        if (!it->status().ok()) return FromRocks(it->status(), "scanning index");
        const bool more = i + 1 < chunk.size() || has_more();
        if (more) page->next_cursor = internal::EncodeCursor(chunk[i]);
        return Status::Ok();
      }
    }
    if (scanned >= options_.max_scan_per_search && has_more()) {
      page->next_cursor = internal::EncodeCursor(chunk.back());
      return Status::Ok();
    }
  }
  if (!it->status().ok()) return FromRocks(it->status(), "scanning index");
  return Status::Ok();
}

Status EvidenceStore::Flush() {
  if (options_.read_only) return Status::Ok();
  rocksdb::FlushOptions fo;
  fo.wait = true;
  rocksdb::Status s = db_->Flush(fo, cf_->all);
  if (s.ok()) s = db_->SyncWAL();
  if (!s.ok()) return FromRocks(s, "flushing store");
  return Status::Ok();
}

}  // namespace mamori::storage
