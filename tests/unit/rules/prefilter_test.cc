// The prefilter (hit-driven evaluation: trigger leaves, lazy leaves with short literals, the
// literal scanner's root skip) must give exactly what evaluating every rule of an admitting log
// source group on every event gives (CompileOptions::prefilter = false, the reference). Checked
// on the Sigma corpus rules and the default pack over corpus events (Windows regression events,
// loghub Linux/OpenSSH lines) and random messages made of the rules' own words.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <set>
#include <sstream>

#include "mamori/rules/engine.h"
#include "test_util.h"

namespace mamori::rules {
namespace {

namespace fs = std::filesystem;
const std::string kCorpora = MAMORI_CORPORA;

std::vector<std::string> RulePaths() {
  return {kCorpora + "/sigma/rules", kCorpora + "/sigma/rules-emerging-threats",
          kCorpora + "/sigma/rules-threat-hunting",
          std::string(MAMORI_SOURCE_DIR) + "/rules/default"};
}

// Words of the rule files (quoted values split on quotes and spaces), to build messages that
// hit many keys, short ones included.
std::vector<std::string> RuleWords(const std::vector<std::string>& paths) {
  std::set<std::string> words;
  for (const auto& root : paths) {
    for (auto& f : fs::recursive_directory_iterator(root)) {
      if (f.path().extension() != ".yml") continue;
      std::string text = testing::ReadFile(f.path().string());
      std::string cur;
      for (char c : text) {
        if (c == '\'' || c == '"' || c == '\n' || c == ' ' || c == '*' || c == '|') {
          if (!cur.empty() && cur.size() < 40) words.insert(cur);
          cur.clear();
        } else {
          cur += c;
        }
      }
    }
  }
  return {words.begin(), words.end()};
}

std::vector<Record> Events(const std::vector<std::string>& words) {
  std::vector<Record> out;
  std::uint64_t seq = 0;
  auto add = [&](Record r) {
    r.seq = ++seq;
    r.event.event_time_ns = static_cast<std::int64_t>(seq) * testing::kSec;
    out.push_back(std::move(r));
  };
  for (auto& f : fs::recursive_directory_iterator(kCorpora + "/sigma/regression_data")) {
    if (f.path().extension() != ".json") continue;
    for (const auto& j : testing::SplitJsonStream(testing::ReadFile(f.path().string()))) {
      Record r = testing::MakeRecord(j);
      r.event.format = "json";
      add(std::move(r));
    }
  }
  for (const char* log : {"/loghub/Linux/Linux_2k.log", "/loghub/OpenSSH/OpenSSH_2k.log"}) {
    std::istringstream in(testing::ReadFile(kCorpora + log));
    std::string line;
    while (std::getline(in, line)) {
      auto colon = line.find(": ");
      auto space = line.rfind(' ', colon);
      std::string app = colon != std::string::npos && space != std::string::npos
                            ? line.substr(space + 1, colon - space - 1)
                            : "";
      app = app.substr(0, app.find('['));
      Record r =
          testing::Syslog(app, colon == std::string::npos ? line : line.substr(colon + 2), 0, 0);
      r.raw.bytes = line;
      r.event.format = "rfc3164";
      add(std::move(r));
    }
  }
  std::mt19937 rng(20261127);
  const char* apps[] = {"sshd", "sudo", "su", "cron", "kernel", "auditd", ""};
  for (int i = 0; i < 3000; ++i) {
    std::string msg;
    const int n = 1 + static_cast<int>(rng() % 8);
    for (int k = 0; k < n; ++k) {
      std::string w = words[rng() % words.size()];
      if (rng() % 3 == 0) {
        for (auto& c : w) c = static_cast<char>(rng() % 2 ? std::toupper(c) : std::tolower(c));
      }
      msg += (rng() % 4 == 0 ? "" : " ") + w;
    }
    Record r = testing::Syslog(apps[rng() % 7], msg, 0, 0);
    r.raw.bytes = msg;
    r.event.format = rng() % 5 == 0 ? "auditd" : "rfc3164";
    if (r.event.format == "auditd") r.event.fields.push_back(Field{"type", "EXECVE"});
    add(std::move(r));
  }
  return out;
}

TEST(Prefilter, SameMatchesAndAlertsAsEvaluatingEveryRule) {
  if (!fs::exists(kCorpora + "/sigma")) GTEST_SKIP() << "corpus not found";
  LoadOptions reference;
  reference.compile.prefilter = false;
  LoadResult fast = LoadRuleFiles(RulePaths());
  LoadResult slow = LoadRuleFiles(RulePaths(), reference);
  ASSERT_EQ(fast.rules->size(), slow.rules->size());
  ASSERT_GT(fast.rules->size(), 700u);
  const auto events = Events(RuleWords(RulePaths()));
  Engine a(fast.rules), b(slow.rules);
  std::vector<Alert> alerts_a, alerts_b;
  std::uint64_t total_matches = 0;
  for (const auto& r : events) {
    alerts_a.clear();
    alerts_b.clear();
    a.Process(r, &alerts_a);
    b.Process(r, &alerts_b);
    ASSERT_EQ(alerts_a.size(), alerts_b.size()) << "event " << r.seq << ": " << r.event.message;
    for (size_t i = 0; i < alerts_a.size(); ++i) {
      EXPECT_EQ(alerts_a[i].rule_id, alerts_b[i].rule_id) << "event " << r.seq;
      EXPECT_EQ(alerts_a[i].group_key, alerts_b[i].group_key);
      EXPECT_EQ(alerts_a[i].summary, alerts_b[i].summary);
    }
  }
  auto sa = a.Stats(), sb = b.Stats();
  for (size_t i = 0; i < sa.size(); ++i) {
    EXPECT_EQ(sa[i].matches, sb[i].matches) << fast.rules->info(i).id;
    total_matches += sa[i].matches;
  }
  std::printf("prefilter: %zu events, %zu rules, %llu matches, identical\n", events.size(),
              sa.size(), static_cast<unsigned long long>(total_matches));
  EXPECT_GT(total_matches, 300u);  // the random messages hit many rules, not only the pairs
}

}  // namespace
}  // namespace mamori::rules
