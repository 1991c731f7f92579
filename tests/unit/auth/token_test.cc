#include "mamori/auth/token.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "mamori/auth/token_store.h"

namespace mamori::auth {
namespace {

TEST(Token, GeneratedTokensAreWellFormedAndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    auto t = GenerateToken();
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t->size(), kTokenLength);
    EXPECT_EQ(t->substr(0, 4), "mmr_");
    EXPECT_TRUE(WellFormedToken(*t)) << *t;
    EXPECT_TRUE(seen.insert(*t).second);
  }
}

TEST(Token, WellFormed) {
  const std::string ok = "mmr_" + std::string(43, 'A');
  EXPECT_TRUE(WellFormedToken(ok));
  EXPECT_FALSE(WellFormedToken(""));
  EXPECT_FALSE(WellFormedToken("mmr_"));
  EXPECT_FALSE(WellFormedToken("mmr_" + std::string(42, 'A')));
  EXPECT_FALSE(WellFormedToken("mmr_" + std::string(44, 'A')));
  EXPECT_FALSE(WellFormedToken("xyz_" + std::string(43, 'A')));
  EXPECT_FALSE(WellFormedToken("mmr_" + std::string(42, 'A') + "="));
  EXPECT_FALSE(WellFormedToken("mmr_" + std::string(42, 'A') + "+"));
  EXPECT_FALSE(WellFormedToken("mmr_" + std::string(42, 'A') + std::string(1, '\0')));
  EXPECT_TRUE(WellFormedToken("mmr_" + std::string(41, 'z') + "-_"));
}

TEST(Token, HashIsSha256AndHexRoundTrips) {
  // SHA-256("abc"), FIPS 180-2 test vector.
  const std::string expect = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  TokenHash h = HashToken("abc");
  EXPECT_EQ(HashToHex(h), expect);
  TokenHash back;
  ASSERT_TRUE(HashFromHex(expect, &back));
  EXPECT_TRUE(HashEqual(h, back));
  EXPECT_FALSE(HashEqual(h, HashToken("abd")));
  EXPECT_FALSE(HashFromHex(expect.substr(1), &back));
  EXPECT_FALSE(HashFromHex(expect.substr(1) + "g", &back));
}

TEST(Token, Roles) {
  Role r;
  ASSERT_TRUE(ParseRole("investigator", &r));
  EXPECT_EQ(r, Role::kInvestigator);
  EXPECT_FALSE(ParseRole("Admin", &r));
  EXPECT_FALSE(ParseRole("root", &r));
  EXPECT_FALSE(ParseRole("", &r));
  for (Role x : {Role::kViewer, Role::kAnalyst, Role::kInvestigator, Role::kAdmin}) {
    Role y;
    ASSERT_TRUE(ParseRole(RoleName(x), &y));
    EXPECT_EQ(x, y);
  }
  EXPECT_TRUE(RoleAllows(Role::kAdmin, Role::kViewer));
  EXPECT_TRUE(RoleAllows(Role::kAnalyst, Role::kAnalyst));
  EXPECT_FALSE(RoleAllows(Role::kAnalyst, Role::kInvestigator));
  EXPECT_FALSE(RoleAllows(Role::kViewer, Role::kAnalyst));
}

TEST(Token, ParseBearerAcceptsTheSchemeCaseInsensitively) {
  const std::string tok = "mmr_" + std::string(43, 'b');
  std::string out;
  EXPECT_EQ(ParseBearer("Bearer " + tok, &out), AuthFailure::kNone);
  EXPECT_EQ(out, tok);
  EXPECT_EQ(ParseBearer("bearer   " + tok + "  ", &out), AuthFailure::kNone);
  EXPECT_EQ(ParseBearer("BEARER " + tok, &out), AuthFailure::kNone);
}

TEST(Token, ParseBearerRefusesGarbage) {
  const std::string tok = "mmr_" + std::string(43, 'b');
  std::string out;
  EXPECT_EQ(ParseBearer("", &out), AuthFailure::kMissing);
  EXPECT_EQ(ParseBearer("   ", &out), AuthFailure::kMissing);
  for (const std::string& bad : std::vector<std::string>{
           "Bearer", "Bearer ", "Bearer" + tok, "Basic dXNlcjpwYXNz", "Bearer " + tok + " extra",
           "Bearer " + tok + "x", "Token " + tok, "Bearer\t" + tok, tok,
           "Bearer " + tok.substr(0, 20), std::string("Bearer \0", 8) + tok,
           "Bearer " + tok + "\r\n", "Bearer mmr_\xff\xfe" + std::string(41, 'a'),
           std::string(10000, 'B'), "Bearer " + std::string(10000, 'a')}) {
    out.clear();
    EXPECT_EQ(ParseBearer(bad, &out), AuthFailure::kMalformed) << bad.substr(0, 60);
    EXPECT_EQ(out, "");
  }
}

TEST(Token, Names) {
  EXPECT_TRUE(ValidTokenName("alice"));
  EXPECT_TRUE(ValidTokenName("ci.prometheus-01@soc_team"));
  EXPECT_FALSE(ValidTokenName(""));
  EXPECT_FALSE(ValidTokenName(std::string(65, 'a')));
  EXPECT_FALSE(ValidTokenName("a b"));
  EXPECT_FALSE(ValidTokenName("a\tb"));
  EXPECT_FALSE(ValidTokenName("a\nb"));
  EXPECT_FALSE(ValidTokenName("名前"));
}

class TokenFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("mamori-token-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "tokens").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(TokenFileTest, CreateListRevokeAndModes) {
  auto t = CreateToken(path_, "alice", Role::kAnalyst, 1000);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::ifstream in(path_);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text.find(*t), std::string::npos) << "the token itself must never be stored";
  EXPECT_NE(text.find(HashToHex(HashToken(*t))), std::string::npos);

  EXPECT_EQ(CreateToken(path_, "alice", Role::kAdmin, 2000).status().code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(CreateToken(path_, "bad name", Role::kAdmin, 2000).status().code(),
            Status::Code::kInvalidArgument);
  ASSERT_TRUE(CreateToken(path_, "bob", Role::kAdmin, 3000).ok());
  auto entries = ReadTokenFile(path_);
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].name, "alice");
  EXPECT_EQ((*entries)[0].role, Role::kAnalyst);
  EXPECT_EQ((*entries)[0].created_ns, 1000);

  ASSERT_TRUE(RevokeToken(path_, "alice", 5000).ok());
  EXPECT_EQ(RevokeToken(path_, "alice", 6000).code(), Status::Code::kNotFound);
  EXPECT_EQ(RevokeToken(path_, "nobody", 6000).code(), Status::Code::kNotFound);
  entries = ReadTokenFile(path_);
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ((*entries)[0].revoked_ns, 5000);
  // A revoked name can be used again: the new token replaces the revoked entry.
  ASSERT_TRUE(CreateToken(path_, "alice", Role::kViewer, 7000).ok());
  entries = ReadTokenFile(path_);
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ(entries->back().name, "alice");
  EXPECT_TRUE(entries->back().active());
}

TEST_F(TokenFileTest, ParseRejectsBadLinesNamingThem) {
  const std::string h = "# mamori tokens v1\n";
  const std::string hash = std::string(64, 'a');
  EXPECT_TRUE(ParseTokenFile("").ok());
  EXPECT_TRUE(ParseTokenFile(h + "\n# comment\n").ok());
  EXPECT_TRUE(ParseTokenFile(h + "a\tadmin\tsha256:" + hash + "\t1\t0\n").ok());
  for (std::string bad : {
           std::string("garbage\n"),
           h + "a\tadmin\tsha256:" + hash + "\t1\n",
           h + "a\troot\tsha256:" + hash + "\t1\t0\n",
           h + "a b\tadmin\tsha256:" + hash + "\t1\t0\n",
           h + "a\tadmin\tmd5:" + hash + "\t1\t0\n",
           h + "a\tadmin\tsha256:" + hash.substr(1) + "\t1\t0\n",
           h + "a\tadmin\tsha256:" + hash + "\t-1\t0\n",
           h + "a\tadmin\tsha256:" + hash + "\tx\t0\n",
           h + "a\tadmin\tsha256:" + hash + "\t1\t0\n" + "a\tviewer\tsha256:" + hash + "\t1\t0\n",
       }) {
    auto r = ParseTokenFile(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), Status::Code::kCorruption);
  }
  auto r = ParseTokenFile(h + "\nx\tadmin\n");
  EXPECT_NE(r.status().message().find("line 3"), std::string::npos) << r.status().message();
}

TEST_F(TokenFileTest, TokenSetFollowsTheFileWithoutRestart) {
  auto set = TokenSet::Open(path_, nullptr);  // no file yet: nobody authenticates
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  Identity who;
  EXPECT_EQ((*set)->Authenticate("", &who), AuthFailure::kMissing);
  EXPECT_EQ((*set)->Authenticate("Bearer nonsense", &who), AuthFailure::kMalformed);
  auto unknown = GenerateToken();
  EXPECT_EQ((*set)->Authenticate("Bearer " + *unknown, &who), AuthFailure::kUnknown);

  auto t = CreateToken(path_, "carol", Role::kInvestigator, 1);
  ASSERT_TRUE(t.ok());
  ASSERT_EQ((*set)->Authenticate("Bearer " + *t, &who), AuthFailure::kNone);
  EXPECT_EQ(who.name, "carol");
  EXPECT_EQ(who.role, Role::kInvestigator);
  EXPECT_EQ((*set)->active_count(), 1u);

  ASSERT_TRUE(RevokeToken(path_, "carol", 2).ok());
  EXPECT_EQ((*set)->Authenticate("Bearer " + *t, &who), AuthFailure::kRevoked);

  // A file that became invalid keeps the previous set in force.
  auto t2 = CreateToken(path_, "dave", Role::kViewer, 3);
  ASSERT_TRUE(t2.ok());
  ASSERT_EQ((*set)->Authenticate("Bearer " + *t2, &who), AuthFailure::kNone);
  {
    std::ofstream out(path_, std::ios::app);
    out << "this is not a token line\n";
  }
  EXPECT_EQ((*set)->Authenticate("Bearer " + *t2, &who), AuthFailure::kNone);
  EXPECT_EQ(who.name, "dave");
  // Removing the file removes every token.
  std::filesystem::remove(path_);
  EXPECT_EQ((*set)->Authenticate("Bearer " + *t2, &who), AuthFailure::kUnknown);
}

TEST_F(TokenFileTest, OpenFailsOnACorruptFile) {
  {
    std::ofstream out(path_);
    out << "not a token file\n";
  }
  auto set = TokenSet::Open(path_, nullptr);
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.status().code(), Status::Code::kCorruption);
  EXPECT_NE(set.status().message().find(path_), std::string::npos);
}

TEST_F(TokenFileTest, ConcurrentCreatorsLoseNothing) {
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([this, i] {
      EXPECT_TRUE(CreateToken(path_, "t" + std::to_string(i), Role::kViewer, i + 1).ok());
    });
  }
  for (auto& th : threads) th.join();
  auto entries = ReadTokenFile(path_);
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ(entries->size(), 8u);
}

}  // namespace
}  // namespace mamori::auth
