#include "mamori/auth/audit.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "audit_test_util.h"

namespace mamori::auth {
namespace {

AuditEntry Sample(int i) {
  AuditEntry e;
  e.time_ns = 1'700'000'000'000'000'000 + i;
  e.actor = "alice";
  e.role = "analyst";
  e.peer = "127.0.0.1:5000";
  e.method = "GET";
  e.path = "/api/v1/events";
  e.params = {{"q", "login " + std::to_string(i)}, {"limit", "10"}};
  e.status = 200;
  e.returned = i;
  e.withheld = 1;
  return e;
}

class AuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() /
            ("mamori-audit-test-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<AuditLog> Open(bool read_only = false) {
    AuditOptions o;
    o.dir = dir_;
    o.read_only = read_only;
    auto log = AuditLog::Open(o, nullptr);
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    return log.ok() ? std::move(log).value() : nullptr;
  }
  void Fill(int n) {
    auto log = Open();
    for (int i = 1; i <= n; ++i) ASSERT_TRUE(log->Append(Sample(i)).ok());
  }
  std::string dir_;
};

TEST_F(AuditTest, EncodingRoundTripsAndHashCoversEveryField) {
  AuditEntry e = Sample(3);
  e.seq = 3;
  e.prev_hash[0] = 7;
  e.hash = HashAuditEntry(e);
  std::string value = EncodeAuditEntry(e);
  value.append(reinterpret_cast<const char*>(e.hash.data()), e.hash.size());
  auto back = DecodeAuditValue(value);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->actor, "alice");
  EXPECT_EQ(back->params, e.params);
  EXPECT_EQ(back->withheld, 1);
  EXPECT_EQ(HashAuditEntry(*back), e.hash);
  // Each field changes the hash.
  auto differs = [&](auto mutate) {
    AuditEntry m = e;
    mutate(m);
    return HashAuditEntry(m) != e.hash;
  };
  EXPECT_TRUE(differs([](AuditEntry& m) { m.seq++; }));
  EXPECT_TRUE(differs([](AuditEntry& m) { m.time_ns++; }));
  EXPECT_TRUE(differs([](AuditEntry& m) { m.actor = "mallory"; }));
  EXPECT_TRUE(differs([](AuditEntry& m) { m.role = "admin"; }));
  EXPECT_TRUE(differs([](AuditEntry& m) { m.peer = "10.0.0.1:1"; }));
  EXPECT_TRUE(differs([](AuditEntry& m) { m.method = "POST"; }));
  EXPECT_TRUE(differs([](AuditEntry& m) { m.path = "/x"; }));
  EXPECT_TRUE(differs([](AuditEntry& m) { m.params.pop_back(); }));
  EXPECT_TRUE(differs([](AuditEntry& m) { m.params[0].second += "x"; }));
  EXPECT_TRUE(differs([](AuditEntry& m) { m.status = 403; }));
  EXPECT_TRUE(differs([](AuditEntry& m) { m.returned = 0; }));
  EXPECT_TRUE(differs([](AuditEntry& m) { m.withheld = 0; }));
  EXPECT_TRUE(differs([](AuditEntry& m) { m.prev_hash[31] ^= 1; }));
  // Field boundaries are part of the encoding: moving a byte between fields changes it.
  EXPECT_TRUE(differs([](AuditEntry& m) {
    m.actor = "alicea";
    m.role = "nalyst";
  }));
}

TEST_F(AuditTest, DecodeNeverCrashesOnGarbage) {
  AuditEntry e = Sample(1);
  std::string value = EncodeAuditEntry(e) + std::string(32, '\0');
  for (std::size_t n = 0; n < value.size(); ++n) {
    EXPECT_FALSE(DecodeAuditValue(value.substr(0, n)).ok()) << n;
  }
  EXPECT_FALSE(DecodeAuditValue(value + "x").ok());
  std::string huge_count = value;
  // The parameter count sits after the path: make it absurd.
  std::size_t pos = EncodeAuditEntry(e).find("/api/v1/events") + 14;
  huge_count[pos] = '\x7f';
  EXPECT_FALSE(DecodeAuditValue(huge_count).ok());
}

TEST_F(AuditTest, AppendListVerifyAndReopenContinuesTheChain) {
  Fill(5);
  {
    auto log = Open();
    EXPECT_EQ(log->next_seq(), 6u);
    auto seq = log->Append(Sample(6));
    ASSERT_TRUE(seq.ok());
    EXPECT_EQ(*seq, 6u);
    auto rep = log->Verify();
    EXPECT_TRUE(rep.ok) << rep.what;
    EXPECT_EQ(rep.entries, 6u);
    auto all = log->List(1, 0, 100);
    ASSERT_TRUE(all.ok());
    ASSERT_EQ(all->size(), 6u);
    EXPECT_EQ((*all)[0].prev_hash, AuditHash{});
    for (std::size_t i = 1; i < all->size(); ++i) {
      EXPECT_EQ((*all)[i].prev_hash, (*all)[i - 1].hash);
      EXPECT_EQ((*all)[i].seq, i + 1);
    }
    EXPECT_EQ(rep.head, all->back().hash);
    auto some = log->List(2, Sample(4).time_ns, 2);
    ASSERT_TRUE(some.ok());
    ASSERT_EQ(some->size(), 2u);
    EXPECT_EQ((*some)[0].seq, 4u);
    EXPECT_EQ((*some)[1].seq, 5u);
    std::string json = AuditEntryToJson((*all)[0]);
    EXPECT_NE(json.find("\"actor\":\"alice\""), std::string::npos) << json;
  }
}

TEST_F(AuditTest, ConcurrentAppendsKeepOneChain) {
  auto log = Open();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) EXPECT_TRUE(log->Append(Sample(i)).ok());
    });
  }
  for (auto& th : threads) th.join();
  auto rep = log->Verify();
  EXPECT_TRUE(rep.ok) << rep.what;
  EXPECT_EQ(rep.entries, 200u);
}

TEST_F(AuditTest, ReadOnlyOpenWhileTheWriterRuns) {
  auto writer = Open();
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(writer->Append(Sample(i)).ok());
  auto reader = Open(/*read_only=*/true);
  ASSERT_NE(reader, nullptr);
  auto rep = reader->Verify();
  EXPECT_TRUE(rep.ok) << rep.what;
  EXPECT_EQ(rep.entries, 3u);
  EXPECT_FALSE(reader->Append(Sample(9)).ok());
  AuditOptions o;
  o.dir = dir_ + "-missing";
  o.read_only = true;
  EXPECT_EQ(AuditLog::Open(o, nullptr).status().code(), Status::Code::kNotFound);
}

TEST_F(AuditTest, ModifiedEntryIsFoundAtItsSeq) {
  Fill(5);
  ASSERT_TRUE(testutil::TamperAuditEntry(dir_, 3, /*rehash=*/false).ok());
  auto rep = Open(true)->Verify();
  EXPECT_FALSE(rep.ok);
  EXPECT_EQ(rep.first_bad, 3u);
  EXPECT_EQ(rep.entries, 2u);
  EXPECT_NE(rep.what.find("modified"), std::string::npos) << rep.what;
}

TEST_F(AuditTest, ModifiedAndRehashedEntryBreaksTheNextLink) {
  Fill(5);
  ASSERT_TRUE(testutil::TamperAuditEntry(dir_, 2, /*rehash=*/true).ok());
  auto rep = Open(true)->Verify();
  EXPECT_FALSE(rep.ok);
  EXPECT_EQ(rep.first_bad, 3u);
  EXPECT_NE(rep.what.find("prev_hash"), std::string::npos) << rep.what;
}

TEST_F(AuditTest, DurableHeadIsTheLastEntry) {
  auto log = Open();
  auto empty = log->DurableHead();
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_EQ(empty->first, 0u);
  EXPECT_EQ(empty->second, AuditHash{});
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(log->Append(Sample(i)).ok());
  auto head = log->DurableHead();
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->first, 3u);
  EXPECT_EQ(head->second, log->Verify().head);
  log.reset();
  auto ro = Open(/*read_only=*/true);
  EXPECT_FALSE(ro->DurableHead().ok());  // the writer's head only
}

TEST_F(AuditTest, DeletedEntryIsAGap) {
  Fill(4);
  {
    rocksdb::DB* db = nullptr;
    rocksdb::Options o;
    ASSERT_TRUE(rocksdb::DB::Open(o, dir_, &db).ok());
    std::string key(1, 'a');
    for (int s = 56; s >= 0; s -= 8) key.push_back(static_cast<char>((2ull >> s) & 0xff));
    ASSERT_TRUE(db->Delete(rocksdb::WriteOptions(), key).ok());
    delete db;
  }
  auto rep = Open(true)->Verify();
  EXPECT_FALSE(rep.ok);
  EXPECT_EQ(rep.first_bad, 2u);
  EXPECT_NE(rep.what.find("missing"), std::string::npos) << rep.what;
}

TEST_F(AuditTest, GarbageValueIsReportedNotFatal) {
  Fill(3);
  {
    rocksdb::DB* db = nullptr;
    rocksdb::Options o;
    ASSERT_TRUE(rocksdb::DB::Open(o, dir_, &db).ok());
    std::string key(1, 'a');
    for (int s = 56; s >= 0; s -= 8) key.push_back(static_cast<char>((3ull >> s) & 0xff));
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), key, "garbage").ok());
    delete db;
  }
  auto rep = Open(true)->Verify();
  EXPECT_FALSE(rep.ok);
  EXPECT_EQ(rep.first_bad, 3u);
  // A writer cannot continue the chain from an unreadable head: it refuses to open (the
  // daemon does not start) rather than start a fork.
  auto w = AuditLog::Open({dir_, false, false}, nullptr);
  EXPECT_EQ(w.status().code(), Status::Code::kCorruption);
}

}  // namespace
}  // namespace mamori::auth
