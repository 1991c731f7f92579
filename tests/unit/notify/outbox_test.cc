#include "mamori/notify/outbox.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

namespace mamori::notify {
namespace {

class OutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mamori-outbox-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Outbox> Open(bool read_only = false) {
    OutboxOptions o;
    o.dir = dir_ + "/notify";
    o.read_only = read_only;
    auto box = Outbox::Open(o);
    EXPECT_TRUE(box.ok()) << box.status().ToString();
    return box.ok() ? std::move(box).value() : nullptr;
  }

  static Entry Make(std::uint64_t id, const std::string& channel) {
    Entry e;
    e.id = id;
    e.channel = channel;
    e.incident_id = 100 + id;
    e.payload = R"({"id":")" + std::to_string(id) + R"("})";
    e.created_ns = 1000 * static_cast<std::int64_t>(id);
    e.next_attempt_ns = e.created_ns;
    return e;
  }

  static std::vector<Entry> All(const Outbox& box, bool failed) {
    std::vector<Entry> out;
    EXPECT_TRUE(box.ForEach(failed, [&](const Entry& e) { out.push_back(e); }).ok());
    return out;
  }

  std::string dir_;
};

TEST_F(OutboxTest, EntriesSurviveReopenUntilRemoved) {
  {
    auto box = Open();
    ASSERT_NE(box, nullptr);
    EXPECT_EQ(box->next_id(), 1u);
    ASSERT_TRUE(box->Add({Make(1, "hook"), Make(1, "mail")}, 2).ok());
    ASSERT_TRUE(box->Add({Make(2, "hook")}, 3).ok());
    Entry e = Make(2, "hook");
    e.attempts = 3;
    e.next_attempt_ns = 99;
    e.last_error = "connection refused";
    ASSERT_TRUE(box->Update(e).ok());
    ASSERT_TRUE(box->Remove(Make(1, "hook")).ok());
  }
  auto box = Open();
  ASSERT_NE(box, nullptr);
  EXPECT_EQ(box->next_id(), 3u);
  auto pending = All(*box, false);
  ASSERT_EQ(pending.size(), 2u);
  EXPECT_EQ(pending[0].id, 1u);
  EXPECT_EQ(pending[0].channel, "mail");
  EXPECT_EQ(pending[0].incident_id, 101u);
  EXPECT_EQ(pending[0].payload, R"({"id":"1"})");
  EXPECT_EQ(pending[1].id, 2u);
  EXPECT_EQ(pending[1].attempts, 3u);
  EXPECT_EQ(pending[1].next_attempt_ns, 99);
  EXPECT_EQ(pending[1].last_error, "connection refused");
  EXPECT_TRUE(All(*box, true).empty());
}

TEST_F(OutboxTest, GiveUpMovesToTheFailedList) {
  auto box = Open();
  ASSERT_TRUE(box->Add({Make(1, "hook"), Make(2, "hook")}, 3).ok());
  Entry e = Make(1, "hook");
  e.failed_ns = 5;
  ASSERT_TRUE(box->GiveUp(e).ok());
  auto pending = All(*box, false);
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].id, 2u);
  auto failed = All(*box, true);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].id, 1u);
  EXPECT_EQ(failed[0].failed_ns, 5);
}

TEST_F(OutboxTest, ReadOnlySecondarySeesTheDataAndRefusesWrites) {
  auto box = Open();
  ASSERT_TRUE(box->Add({Make(1, "hook")}, 2).ok());
  auto ro = Open(true);
  ASSERT_NE(ro, nullptr);
  EXPECT_EQ(All(*ro, false).size(), 1u);
  EXPECT_FALSE(ro->Add({Make(2, "hook")}, 3).ok());
  EXPECT_FALSE(ro->Remove(Make(1, "hook")).ok());
}

TEST_F(OutboxTest, BadInput) {
  auto box = Open();
  EXPECT_FALSE(box->Add({Make(5, "hook")}, 5).ok());  // id not below next_id
  OutboxOptions o;
  o.dir = dir_ + "/missing";
  o.read_only = true;
  EXPECT_EQ(Outbox::Open(o).status().code(), Status::Code::kNotFound);
  EXPECT_FALSE(Outbox::Open(OutboxOptions{}).ok());
  EXPECT_EQ(DecodeEntry("not json").status().code(), Status::Code::kCorruption);
  EXPECT_EQ(DecodeEntry(R"({"id":"x","channel":1,"payload":2})").status().code(),
            Status::Code::kCorruption);
  auto e = DecodeEntry(EncodeEntry(Make(9, "c")));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->id, 9u);
}

}  // namespace
}  // namespace mamori::notify
