#include "mamori/storage/evidence_store.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <algorithm>
#include <map>
#include <set>

#include "raw_db.h"
#include "test_util.h"

namespace mamori::storage {
namespace {

using testing::kSecond;
using testing::kT0;
using testing::MakeRecord;
using testing::TempDir;

class EvidenceStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<EvidenceStore> Open(bool read_only = false, std::size_t max_scan = 1'000'000) {
    StoreOptions o;
    o.dir = dir_.path() + "/db";
    o.read_only = read_only;
    o.max_scan_per_search = max_scan;
    auto s = EvidenceStore::Open(o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  void Append(EvidenceStore& store, std::vector<Record> records) {
    Status s = store.Append(records);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  std::vector<std::uint64_t> Seqs(const SearchPage& p) {
    std::vector<std::uint64_t> out;
    for (const auto& r : p.records) out.push_back(r.seq);
    return out;
  }

  SearchPage MustSearch(const EvidenceStore& store, const Query& q) {
    auto r = store.Search(q);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : SearchPage{};
  }

  // Follows cursors to the end; returns every record seen, in order.
  std::vector<Record> SearchAll(const EvidenceStore& store, Query q, int* pages = nullptr) {
    std::vector<Record> all;
    int n = 0;
    for (;;) {
      SearchPage p = MustSearch(store, q);
      ++n;
      EXPECT_LE(p.records.size(), q.limit);
      for (auto& r : p.records) all.push_back(std::move(r));
      if (p.next_cursor.empty() || n > 100000) break;
      q.cursor = p.next_cursor;
    }
    if (pages) *pages = n;
    return all;
  }

  TempDir dir_;
};

TEST_F(EvidenceStoreTest, RoundTripsEveryField) {
  auto store = Open();
  ASSERT_TRUE(store);
  Record r = MakeRecord(kT0, "web-01", "login failed");
  r.raw.bytes = std::string("<34>\0bin\xff\xfe\x80 ok\n", 14);
  r.raw.received_ns = kT0 + 12345;
  r.raw.listener = "syslog-tls";
  r.raw.transport = Transport::kTls;
  r.raw.peer = "[2001:db8::1]:6514";
  r.raw.flags = kRawTruncated;
  r.raw.original_size = 70000;
  r.event.time_flags = kTimeFromReceipt;
  r.event.host = "h\xc3\x28";  // invalid UTF-8 survives storage unchanged
  r.event.procid = "1234";
  r.event.msgid = "ID47";
  r.event.facility = -1;
  r.event.severity = -1;
  r.event.message = std::string("a\0b", 3);
  r.event.format = "unparsed";
  r.event.fields = {{"source.ip", "192.0.2.1"}, {"user.name", "root"}, {"user.name", "dup"}};
  r.event.info_class = InfoClass::kI;
  const Record want = r;
  Append(*store, {r});

  auto got = store->Get(1);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_TRUE(got->has_value());
  const Record& g = **got;
  EXPECT_EQ(g.seq, 1u);
  EXPECT_EQ(g.raw.bytes, want.raw.bytes);
  EXPECT_EQ(g.raw.bytes.size(), 14u);
  EXPECT_EQ(g.raw.received_ns, want.raw.received_ns);
  EXPECT_EQ(g.raw.listener, want.raw.listener);
  EXPECT_EQ(g.raw.transport, Transport::kTls);
  EXPECT_EQ(g.raw.peer, want.raw.peer);
  EXPECT_EQ(g.raw.flags, kRawTruncated);
  EXPECT_EQ(g.raw.original_size, 70000u);
  EXPECT_EQ(g.event.event_time_ns, kT0);
  EXPECT_EQ(g.event.time_flags, kTimeFromReceipt);
  EXPECT_EQ(g.event.host, want.event.host);
  EXPECT_EQ(g.event.app, "sshd");
  EXPECT_EQ(g.event.procid, "1234");
  EXPECT_EQ(g.event.msgid, "ID47");
  EXPECT_EQ(g.event.facility, -1);
  EXPECT_EQ(g.event.severity, -1);
  EXPECT_EQ(g.event.message, want.event.message);
  EXPECT_EQ(g.event.format, "unparsed");
  EXPECT_EQ(g.event.fields, want.event.fields);
  EXPECT_EQ(g.event.info_class, InfoClass::kI);

  auto missing = store->Get(2);
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  EXPECT_FALSE(store->Get(0)->has_value());
}

TEST_F(EvidenceStoreTest, SequenceIsConsecutiveAndContinuesAfterReopen) {
  {
    auto store = Open();
    ASSERT_TRUE(store);
    EXPECT_EQ(store->next_seq(), 1u);
    std::vector<Record> batch = {MakeRecord(kT0, "a", "1"), MakeRecord(kT0, "a", "2")};
    ASSERT_TRUE(store->Append(batch).ok());
    EXPECT_EQ(batch[0].seq, 1u);
    EXPECT_EQ(batch[1].seq, 2u);
    std::vector<Record> empty;
    ASSERT_TRUE(store->Append(empty).ok());
    EXPECT_EQ(store->next_seq(), 3u);
    std::vector<Record> one = {MakeRecord(kT0, "a", "3")};
    ASSERT_TRUE(store->Append(one).ok());
    EXPECT_EQ(one[0].seq, 3u);
    // No Flush: the WAL alone must carry the records and the counter across a restart.
  }
  auto store = Open();
  ASSERT_TRUE(store);
  EXPECT_EQ(store->next_seq(), 4u);
  std::vector<Record> more = {MakeRecord(kT0, "a", "4")};
  ASSERT_TRUE(store->Append(more).ok());
  EXPECT_EQ(more[0].seq, 4u);
  ASSERT_TRUE(store->Flush().ok());
  for (std::uint64_t s = 1; s <= 4; ++s) {
    auto g = store->Get(s);
    ASSERT_TRUE(g.ok() && g->has_value());
    EXPECT_EQ((*g)->event.message, std::to_string(s));
  }
}

TEST_F(EvidenceStoreTest, SearchIsNewestFirstByEventTimeThenSeq) {
  auto store = Open();
  ASSERT_TRUE(store);
  // Event times out of arrival order, with ties and a pre-1970 time.
  const std::vector<std::int64_t> times = {kT0 + 5, kT0, kT0 + 9, kT0 + 5, -kSecond, kT0 + 9};
  std::vector<Record> batch;
  for (auto t : times) batch.push_back(MakeRecord(t, "h", "m"));
  Append(*store, batch);
  SearchPage p = MustSearch(*store, Query{});
  EXPECT_EQ(Seqs(p), (std::vector<std::uint64_t>{6, 3, 4, 1, 2, 5}));
  EXPECT_TRUE(p.next_cursor.empty());
}

TEST_F(EvidenceStoreTest, SearchFilters) {
  auto store = Open();
  ASSERT_TRUE(store);
  Append(*store, {
                     MakeRecord(kT0 + 0 * kSecond, "web-01", "Accepted password for alice", 6),
                     MakeRecord(kT0 + 1 * kSecond, "web-02", "Failed password for root", 4),
                     MakeRecord(kT0 + 2 * kSecond, "web-01", "Failed password for bob", 3, "su"),
                     MakeRecord(kT0 + 3 * kSecond, "db-01", "disk full", 2, "kernel"),
                     MakeRecord(kT0 + 4 * kSecond, "web-01", "no severity", -1),
                     MakeRecord(kT0 + 5 * kSecond, "web-011", "longer host name", 6),
                 });
  Query q;
  q.host = "web-01";
  EXPECT_EQ(Seqs(MustSearch(*store, q)), (std::vector<std::uint64_t>{5, 3, 1}));
  q = {};
  q.app = "kernel";
  EXPECT_EQ(Seqs(MustSearch(*store, q)), (std::vector<std::uint64_t>{4}));
  q = {};
  q.max_severity = 4;  // severity -1 is excluded
  EXPECT_EQ(Seqs(MustSearch(*store, q)), (std::vector<std::uint64_t>{4, 3, 2}));
  q = {};
  q.pattern = "Fail.*(root|bob)";
  EXPECT_EQ(Seqs(MustSearch(*store, q)), (std::vector<std::uint64_t>{3, 2}));
  q = {};
  q.from_ns = kT0 + 1 * kSecond;  // inclusive
  q.to_ns = kT0 + 4 * kSecond;    // exclusive
  EXPECT_EQ(Seqs(MustSearch(*store, q)), (std::vector<std::uint64_t>{4, 3, 2}));
  q.host = "web-01";  // time range on the host index
  EXPECT_EQ(Seqs(MustSearch(*store, q)), (std::vector<std::uint64_t>{3}));
  q = {};
  q.host = "web-01";
  q.pattern = "password";
  q.max_severity = 5;
  EXPECT_EQ(Seqs(MustSearch(*store, q)), (std::vector<std::uint64_t>{3}));
  q = {};
  q.host = "nobody";
  SearchPage none = MustSearch(*store, q);
  EXPECT_TRUE(none.records.empty());
  EXPECT_TRUE(none.next_cursor.empty());
}

TEST_F(EvidenceStoreTest, PagingVisitsEveryRecordExactlyOnce) {
  auto store = Open();
  ASSERT_TRUE(store);
  std::vector<Record> batch;
  for (int i = 0; i < 1000; ++i) {
    // Many records share an event time, so the cursor must order by seq within a time.
    batch.push_back(MakeRecord(kT0 + (i * 7919 % 50) * kSecond, i % 3 ? "a" : "b",
                               "event " + std::to_string(i), i % 8));
  }
  Append(*store, batch);

  for (std::size_t limit : {1u, 7u, 100u, 1000u, 5000u}) {
    Query q;
    q.limit = limit;
    int pages = 0;
    std::vector<Record> all = SearchAll(*store, q, &pages);
    ASSERT_EQ(all.size(), 1000u) << "limit " << limit;
    std::set<std::uint64_t> seen;
    for (std::size_t i = 0; i < all.size(); ++i) {
      EXPECT_TRUE(seen.insert(all[i].seq).second) << "seq " << all[i].seq << " twice";
      if (i > 0) {
        const auto& a = all[i - 1].event;
        const auto& b = all[i].event;
        EXPECT_TRUE(a.event_time_ns > b.event_time_ns ||
                    (a.event_time_ns == b.event_time_ns && all[i - 1].seq > all[i].seq));
      }
    }
    EXPECT_EQ(pages, static_cast<int>((1000 + limit - 1) / limit)) << "limit " << limit;
  }

  // With filters: host index + severity + pattern, paged by 9.
  Query q;
  q.host = "b";
  q.max_severity = 3;
  q.pattern = "event [0-9]*5$";
  q.limit = 9;
  std::set<std::uint64_t> want;
  for (int i = 0; i < 1000; ++i) {
    if (i % 3 == 0 && i % 8 <= 3 && i % 10 == 5) want.insert(i + 1);
  }
  std::set<std::uint64_t> got;
  for (const auto& r : SearchAll(*store, q)) EXPECT_TRUE(got.insert(r.seq).second);
  EXPECT_EQ(got, want);
  EXPECT_FALSE(want.empty());
}

// A batch with many hosts: runs of one host, hosts that come back, and hosts first seen late in
// the batch all land in their own host_idx entries.
TEST_F(EvidenceStoreTest, ManyHostsInOneBatch) {
  auto store = Open();
  ASSERT_TRUE(store);
  std::vector<Record> batch;
  std::map<std::string, std::set<std::uint64_t>> want;
  for (int i = 0; i < 600; ++i) {
    const int h = i < 300 ? (i / 3) % 25 : (i * 7) % 40;  // runs of 3, then interleaved
    const std::string host = "host-" + std::to_string(h);
    batch.push_back(MakeRecord(kT0 + (i % 2) * kSecond, host, std::to_string(i)));
    want[host].insert(static_cast<std::uint64_t>(i) + 1);
  }
  Append(*store, batch);
  ASSERT_EQ(want.size(), 40u);
  for (const auto& [host, seqs] : want) {
    Query q;
    q.host = host;
    q.limit = 7;
    std::set<std::uint64_t> got;
    for (const auto& r : SearchAll(*store, q)) {
      EXPECT_EQ(r.event.host, host);
      EXPECT_TRUE(got.insert(r.seq).second);
    }
    EXPECT_EQ(got, seqs) << host;
  }
  store.reset();
  // One entry per (host, time) that occurs.
  std::set<std::pair<std::string, int>> keys;
  for (int i = 0; i < 600; ++i) {
    const int h = i < 300 ? (i / 3) % 25 : (i * 7) % 40;
    keys.emplace("host-" + std::to_string(h), i % 2);
  }
  testing::RawDb db(dir_.path() + "/db");
  EXPECT_EQ(db.Count("host_idx"), static_cast<int>(keys.size()));
}

TEST_F(EvidenceStoreTest, PagingWithinATimeRange) {
  auto store = Open();
  ASSERT_TRUE(store);
  std::vector<Record> batch;
  for (int i = 0; i < 300; ++i) {
    batch.push_back(MakeRecord(kT0 + (i % 30) * kSecond, i % 2 ? "a" : "b", std::to_string(i)));
  }
  Append(*store, batch);
  for (const std::string host : {"", "a"}) {
    Query q;
    q.host = host;
    q.from_ns = kT0 + 10 * kSecond;
    q.to_ns = kT0 + 20 * kSecond;
    q.limit = 13;
    std::set<std::uint64_t> want;
    for (int i = 0; i < 300; ++i) {
      if (i % 30 >= 10 && i % 30 < 20 && (host.empty() || i % 2 == 1)) want.insert(i + 1);
    }
    std::set<std::uint64_t> got;
    for (const auto& r : SearchAll(*store, q)) {
      EXPECT_TRUE(got.insert(r.seq).second);
      EXPECT_GE(r.event.event_time_ns, *q.from_ns);
      EXPECT_LT(r.event.event_time_ns, *q.to_ns);
    }
    EXPECT_EQ(got, want) << "host '" << host << "'";
  }
}

// Records of one batch that share an event time (and host) share one index entry; entries of
// different batches with the same time never interleave, so (time, seq) order and cursors hold.
TEST_F(EvidenceStoreTest, RecordsSharingATimeShareAnIndexEntry) {
  {
    auto store = Open();
    ASSERT_TRUE(store);
    for (int b = 0; b < 3; ++b) {
      std::vector<Record> batch;
      for (int i = 0; i < 100; ++i) {
        batch.push_back(MakeRecord(kT0 + (i % 2) * kSecond, std::string(1, 'a' + i % 3), "m"));
      }
      Append(*store, batch);
    }
    for (const std::string host : {"", "a", "c"}) {
      for (std::size_t limit : {1u, 3u, 64u, 1000u}) {
        Query q;
        q.host = host;
        q.limit = limit;
        std::vector<Record> all = SearchAll(*store, q);
        ASSERT_EQ(all.size(), host.empty()  ? 300u
                              : host == "a" ? 102u
                                            : 99u)
            << host << " " << limit;
        for (std::size_t i = 1; i < all.size(); ++i) {
          const auto& a = all[i - 1];
          const auto& b = all[i];
          EXPECT_TRUE(a.event.event_time_ns > b.event.event_time_ns ||
                      (a.event.event_time_ns == b.event.event_time_ns && a.seq > b.seq));
          if (!host.empty()) {
            EXPECT_EQ(b.event.host, host);
          }
        }
      }
    }
    Query q;  // a time range ending inside the shared entries of the newest time
    q.from_ns = kT0;
    q.to_ns = kT0 + kSecond;
    EXPECT_EQ(SearchAll(*store, q).size(), 150u);
  }
  // 3 batches x 2 times in time_idx; x 3 hosts in host_idx.
  testing::RawDb db(dir_.path() + "/db");
  EXPECT_EQ(db.CountRecords(), 300);
  EXPECT_EQ(db.Count("time_idx"), 6);
  EXPECT_EQ(db.Count("host_idx"), 18);
  EXPECT_EQ(db.Get("meta", "format"), "3");
}

// A format 1 store (one index entry per record, written before entries were shared) is read
// as it is, and marked format 3 when opened for writing; an unknown format is refused.
TEST_F(EvidenceStoreTest, Format1StoreIsReadAndMarkedFormat3) {
  {
    auto store = Open();
    ASSERT_TRUE(store);
    std::vector<Record> batch;
    for (int i = 0; i < 20; ++i) batch.push_back(MakeRecord(kT0 + i, "h", std::to_string(i)));
    Append(*store, batch);  // distinct times: one entry per record, as format 1 wrote them
  }
  auto set_format = [&](const std::string& v) {
    testing::RawDb db(dir_.path() + "/db");
    db.Put("meta", "format", v);
  };
  set_format("1");
  {
    auto ro = Open(/*read_only=*/true);
    ASSERT_TRUE(ro);
    EXPECT_EQ(SearchAll(*ro, Query{}).size(), 20u);
  }
  {
    auto store = Open();
    ASSERT_TRUE(store);
    Query q;
    q.limit = 3;
    EXPECT_EQ(SearchAll(*store, q).size(), 20u);
  }
  {
    testing::RawDb db(dir_.path() + "/db");
    EXPECT_EQ(db.Get("meta", "format"), "3");
  }
  set_format("4");
  StoreOptions o;
  o.dir = dir_.path() + "/db";
  auto refused = EvidenceStore::Open(o);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("store format '4'"), std::string::npos)
      << refused.status().ToString();
}

TEST_F(EvidenceStoreTest, HostIndexDoesNotConfuseHostsSharingAPrefix) {
  auto store = Open();
  ASSERT_TRUE(store);
  Append(*store,
         {MakeRecord(kT0, "web", "1"), MakeRecord(kT0, "web1", "2"), MakeRecord(kT0, "we", "3"),
          MakeRecord(kT0, "", "4"), MakeRecord(kT0, std::string("web\0", 4), "5")});
  for (const auto& [host, seq] : std::vector<std::pair<std::string, std::uint64_t>>{
           {"web", 1}, {"web1", 2}, {"we", 3}, {std::string("web\0", 4), 5}}) {
    Query q;
    q.host = host;
    EXPECT_EQ(Seqs(MustSearch(*store, q)), (std::vector<std::uint64_t>{seq}));
  }
}

TEST_F(EvidenceStoreTest, ScanBudgetReturnsACursorInsteadOfScanningForever) {
  auto store = Open(false, /*max_scan=*/10);
  ASSERT_TRUE(store);
  std::vector<Record> batch;
  for (int i = 0; i < 100; ++i) {
    batch.push_back(MakeRecord(kT0 + i, "h", i == 0 ? "needle" : "hay"));
  }
  Append(*store, batch);
  Query q;
  q.pattern = "needle";
  SearchPage first = MustSearch(*store, q);
  EXPECT_TRUE(first.records.empty());
  EXPECT_FALSE(first.next_cursor.empty());
  int pages = 0;
  std::vector<Record> all = SearchAll(*store, q, &pages);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].seq, 1u);
  EXPECT_GE(pages, 10);
}

TEST_F(EvidenceStoreTest, BadQueriesAreInvalidArgument) {
  auto store = Open();
  ASSERT_TRUE(store);
  Query q;
  q.pattern = "(unclosed";
  auto r = store->Search(q);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("(unclosed"), std::string::npos) << r.status().message();
  q = {};
  q.limit = 0;
  EXPECT_EQ(store->Search(q).status().code(), Status::Code::kInvalidArgument);
  q.limit = 10001;
  EXPECT_EQ(store->Search(q).status().code(), Status::Code::kInvalidArgument);
  q = {};
  q.cursor = "garbage";
  EXPECT_EQ(store->Search(q).status().code(), Status::Code::kInvalidArgument);
}

TEST_F(EvidenceStoreTest, ReadOnlyOpenWhileTheWriterHasTheStoreOpen) {
  auto writer = Open();
  ASSERT_TRUE(writer);
  std::vector<Record> batch;
  for (int i = 0; i < 10; ++i) batch.push_back(MakeRecord(kT0 + i, "h", std::to_string(i)));
  Append(*writer, batch);  // only in the WAL and memtable: never flushed

  auto reader = Open(/*read_only=*/true);
  ASSERT_TRUE(reader);
  EXPECT_EQ(reader->next_seq(), 11u);
  SearchPage p = MustSearch(*reader, Query{});
  EXPECT_EQ(p.records.size(), 10u);
  auto g = reader->Get(3);
  ASSERT_TRUE(g.ok() && g->has_value());
  EXPECT_EQ((*g)->event.message, "2");
  std::vector<Record> nope = {MakeRecord(kT0, "h", "x")};
  EXPECT_FALSE(reader->Append(nope).ok());

  // The writer is unaffected and keeps going; a fresh reader sees the new records.
  Append(*writer, {MakeRecord(kT0 + 100, "h", "later")});
  ASSERT_TRUE(writer->Flush().ok());
  EXPECT_EQ(writer->next_seq(), 12u);
  auto reader2 = Open(/*read_only=*/true);
  ASSERT_TRUE(reader2);
  EXPECT_EQ(reader2->next_seq(), 12u);
  EXPECT_EQ(MustSearch(*reader2, Query{}).records.front().event.message, "later");
}

TEST_F(EvidenceStoreTest, ReadOnlyOpensWhileTheWriterWritesAndFlushes) {
  auto writer = Open();
  ASSERT_TRUE(writer);
  std::atomic<bool> done{false};
  std::thread t([&] {
    for (int b = 0; !done; ++b) {
      std::vector<Record> batch;
      for (int i = 0; i < 200; ++i) batch.push_back(MakeRecord(kT0 + b * 200 + i, "h", "m"));
      ASSERT_TRUE(writer->Append(batch).ok());
      if (b % 5 == 0) {
        ASSERT_TRUE(writer->Flush().ok());
      }
    }
  });
  std::uint64_t last = 0;
  for (int i = 0; i < 15; ++i) {
    auto reader = Open(/*read_only=*/true);
    ASSERT_TRUE(reader);
    EXPECT_GE(reader->next_seq(), last);
    last = reader->next_seq();
    if (last > 1) {
      auto g = reader->Get(last - 1);
      ASSERT_TRUE(g.ok()) << g.status().ToString();
      EXPECT_TRUE(g->has_value());
    }
    Query q;
    q.limit = 5;
    EXPECT_TRUE(reader->Search(q).ok());
  }
  done = true;
  t.join();
  EXPECT_GT(last, 1u);
}

TEST_F(EvidenceStoreTest, ReadOnlyOpenOfMissingStoreIsNotFound) {
  StoreOptions o;
  o.dir = dir_.path() + "/nothing-here";
  o.read_only = true;
  auto s = EvidenceStore::Open(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Status::Code::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(o.dir));  // read-only creates nothing
}

// Overwrites the value of one record behind the store's back.
void CorruptRecord(const std::string& dir, std::uint64_t seq, const std::string& value) {
  testing::RawDb db(dir);
  db.PutRec(seq, value);
}

TEST_F(EvidenceStoreTest, CorruptValueIsCorruptionNotACrash) {
  {
    auto store = Open();
    ASSERT_TRUE(store);
    Append(*store, {MakeRecord(kT0, "h", "1"), MakeRecord(kT0 + 1, "h", "2"),
                    MakeRecord(kT0 + 2, "h", "3")});
  }
  CorruptRecord(dir_.path() + "/db", 2, std::string("\x01\x00\x05", 3));
  auto store = Open();
  ASSERT_TRUE(store);
  auto g = store->Get(2);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), Status::Code::kCorruption);
  EXPECT_NE(g.status().message().find("record 2"), std::string::npos) << g.status().message();
  EXPECT_TRUE(store->Get(1).ok());
  EXPECT_TRUE(store->Get(3).ok());
  EXPECT_EQ(store->Search(Query{}).status().code(), Status::Code::kCorruption);
  Query newest;
  newest.limit = 1;  // stops before the corrupt record
  EXPECT_EQ(Seqs(MustSearch(*store, newest)), (std::vector<std::uint64_t>{3}));
}

// A batch is stored in record groups (FORMAT.md, "Record groups"): at most 64 records, or
// about 16 KiB, per RocksDB value. Every record reads back by seq and by search, across group
// boundaries, before and after a reopen, and the seqs go on after the last record of a group.
TEST_F(EvidenceStoreTest, BatchesAreStoredInRecordGroups) {
  std::vector<std::string> messages;
  {
    auto store = Open();
    ASSERT_TRUE(store);
    std::vector<Record> batch;
    for (int i = 0; i < 300; ++i) {
      // Mostly short messages; every 50th is 6 KB, so some groups close on size, not count.
      messages.push_back(i % 50 == 49 ? std::string(6000, 'a' + i % 26) : "m" + std::to_string(i));
      batch.push_back(MakeRecord(kT0 + i, "h" + std::to_string(i % 3), messages.back()));
    }
    Append(*store, batch);
    Append(*store, {MakeRecord(kT0 + 300, "h0", "alone")});  // a batch of one: a plain value
    messages.push_back("alone");
    for (std::uint64_t seq = 1; seq <= 301; ++seq) {
      auto r = store->Get(seq);
      ASSERT_TRUE(r.ok() && r->has_value()) << seq;
      EXPECT_EQ((*r)->event.message, messages[seq - 1]) << seq;
      EXPECT_EQ((*r)->seq, seq);
    }
    EXPECT_FALSE(store->Get(0)->has_value());
    EXPECT_FALSE(store->Get(302)->has_value());
  }
  {
    testing::RawDb db(dir_.path() + "/db");
    EXPECT_EQ(db.CountRecords(), 301);
    const int values = db.Count("records");
    EXPECT_GE(values, 6);   // 300 records: at least 5 groups of <= 64, and the lone record
    EXPECT_LE(values, 20);  // ... and far fewer values than records
    EXPECT_EQ(db.HolderKey(1), 1u);
    EXPECT_EQ(db.HolderKey(64), 1u);
    EXPECT_EQ(db.HolderKey(301), 301u);
    // Groups start with version byte 3; the lone record is a plain version-2 value.
    EXPECT_EQ(db.Get("records", internal::RecordKey(1))[0], char{internal::kRecordGroupV3});
    EXPECT_EQ(db.Get("records", internal::RecordKey(301))[0], char{internal::kRecordFormatV2});
  }
  auto store = Open();
  ASSERT_TRUE(store);
  EXPECT_EQ(store->next_seq(), 302u);
  for (std::uint64_t seq : {1u, 2u, 64u, 65u, 150u, 300u, 301u}) {
    auto r = store->Get(seq);
    ASSERT_TRUE(r.ok() && r->has_value()) << seq;
    EXPECT_EQ((*r)->event.message, messages[seq - 1]);
  }
  for (std::size_t limit : {1u, 7u, 64u, 1000u}) {
    Query q;
    q.limit = limit;
    const auto all = SearchAll(*store, q);
    ASSERT_EQ(all.size(), 301u) << limit;
    for (std::size_t i = 0; i < all.size(); ++i) {
      EXPECT_EQ(all[i].seq, 301 - i);  // newest first
      EXPECT_EQ(all[i].event.message, messages[300 - i]);
    }
  }
  Query one_host;
  one_host.host = "h1";
  EXPECT_EQ(SearchAll(*store, one_host).size(), 100u);
}

// Several vectors appended as one batch (what the writer thread does with the producers'
// vectors): seqs run on across them, empty ones included, in one write.
TEST_F(EvidenceStoreTest, AppendOfSeveralPartsIsOneBatch) {
  auto store = Open();
  ASSERT_TRUE(store);
  std::vector<std::vector<Record>> parts(4);
  parts[0] = {MakeRecord(kT0, "a", "0"), MakeRecord(kT0, "b", "1"), MakeRecord(kT0, "a", "2")};
  parts[2] = {MakeRecord(kT0 + 1, "b", "3")};
  parts[3] = {MakeRecord(kT0 + 1, "a", "4"), MakeRecord(kT0 + 2, "c", "5")};
  ASSERT_TRUE(store->Append(std::span<std::vector<Record>>(parts)).ok());
  EXPECT_EQ(store->next_seq(), 7u);
  std::uint64_t want = 1;
  for (const auto& part : parts) {
    for (const Record& r : part) EXPECT_EQ(r.seq, want++);
  }
  for (std::uint64_t seq = 1; seq <= 6; ++seq) {
    auto r = store->Get(seq);
    ASSERT_TRUE(r.ok() && r->has_value()) << seq;
    EXPECT_EQ((*r)->event.message, std::to_string(seq - 1));
  }
  Query by_host;
  by_host.host = "a";
  EXPECT_EQ(Seqs(MustSearch(*store, by_host)), (std::vector<std::uint64_t>{5, 3, 1}));
  std::vector<std::vector<Record>> none(2);
  ASSERT_TRUE(store->Append(std::span<std::vector<Record>>(none)).ok());
  EXPECT_EQ(store->next_seq(), 7u);
}

// A group whose framing is damaged: the records it held read as Corruption, never as absent
// and never a crash; the records of the other groups still read.
TEST_F(EvidenceStoreTest, DamagedRecordGroupIsCorruption) {
  {
    auto store = Open();
    ASSERT_TRUE(store);
    std::vector<Record> batch;
    for (int i = 0; i < 100; ++i) batch.push_back(MakeRecord(kT0 + i, "h", std::to_string(i)));
    Append(*store, batch);  // groups at 1 (1..64) and 65 (65..100)
  }
  {
    testing::RawDb db(dir_.path() + "/db");
    ASSERT_EQ(db.HolderKey(70), 65u);
    std::string v = db.Get("records", internal::RecordKey(65));
    v.resize(v.size() - 1);
    db.Put("records", internal::RecordKey(65), v);
  }
  auto store = Open();
  ASSERT_TRUE(store);
  for (std::uint64_t seq : {65u, 70u, 100u}) {
    auto g = store->Get(seq);
    ASSERT_FALSE(g.ok()) << seq;
    EXPECT_EQ(g.status().code(), Status::Code::kCorruption) << seq;
  }
  for (std::uint64_t seq : {1u, 64u}) EXPECT_TRUE(store->Get(seq)->has_value()) << seq;
  EXPECT_EQ(store->next_seq(), 101u);  // next_seq still covers the damaged group's records
  EXPECT_EQ(store->Search(Query{}).status().code(), Status::Code::kCorruption);
}

TEST_F(EvidenceStoreTest, ManyConcurrentReadersDuringAppends) {
  auto store = Open();
  ASSERT_TRUE(store);
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&] {
      while (!done) {
        const std::uint64_t n = store->next_seq();
        Query q;
        q.limit = 50;
        auto p = store->Search(q);
        if (!p.ok()) ++bad;
        if (n > 1 && !(store->Get(n - 1).ok() && store->Get(n - 1)->has_value())) ++bad;
      }
    });
  }
  for (int b = 0; b < 50; ++b) {
    std::vector<Record> batch;
    for (int i = 0; i < 100; ++i) batch.push_back(MakeRecord(kT0 + b * 100 + i, "h", "m"));
    Append(*store, batch);
  }
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(store->next_seq(), 5001u);
}

}  // namespace
}  // namespace mamori::storage
