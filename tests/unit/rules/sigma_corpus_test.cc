// The Sigma corpus (read in place from MAMORI_CORPORA, never copied): every rule loads or is
// reported unsupported; every regression pair fires its rule; the specification's examples load.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <sstream>

#include "mamori/rules/engine.h"
#include "test_util.h"

namespace mamori::rules {
namespace {

namespace fs = std::filesystem;
const std::string kSigma = std::string(MAMORI_CORPORA) + "/sigma";
const std::string kSpec = std::string(MAMORI_CORPORA) + "/sigma-specification";

const LoadResult& Corpus() {
  static const LoadResult* r = new LoadResult(LoadRuleFiles(
      {kSigma + "/rules", kSigma + "/rules-emerging-threats", kSigma + "/rules-threat-hunting"}));
  return *r;
}

TEST(SigmaCorpus, EveryRuleLoadsOrIsReportedUnsupported) {
  if (!fs::exists(kSigma)) GTEST_SKIP() << "corpus not found at " << kSigma;
  const LoadResult& r = Corpus();
  std::map<std::string, int> reasons;
  for (const auto& d : r.diagnostics) {
    if (d.level == Diagnostic::Level::kUnsupported) ++reasons[d.message];
  }
  std::vector<std::pair<int, std::string>> top;
  for (auto& [m, n] : reasons) top.emplace_back(n, m);
  std::sort(top.rbegin(), top.rend());
  std::printf("sigma corpus: %d files, %zu rules loaded, %d unsupported, %d errors, %d warnings\n",
              r.files, r.rules->size(), r.unsupported(), r.errors(), r.warnings());
  for (size_t i = 0; i < top.size() && i < 10; ++i) {
    std::printf("  %4d  %s\n", top[i].first, top[i].second.c_str());
  }
  for (const auto& d : r.diagnostics) {
    if (d.level == Diagnostic::Level::kError) std::printf("  %s\n", d.ToString().c_str());
  }
  EXPECT_EQ(r.errors(), 0);
  // Every file is accounted for: a loaded rule or a diagnostic that names it.
  EXPECT_EQ(static_cast<int>(r.rules->size()) + r.unsupported() + r.errors(), r.files);
  EXPECT_GT(r.rules->size(), static_cast<size_t>(r.files) * 9 / 10);
}

struct Pair {
  std::string rule_id, title, dir;
  std::vector<std::string> logs;
};

std::vector<Pair> RegressionPairs() {
  std::vector<Pair> out;
  std::istringstream in(testing::ReadFile(kSigma + "/regression_index.tsv"));
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<std::string> cols;
    std::stringstream ss(line);
    std::string c;
    while (std::getline(ss, c, '\t')) cols.push_back(c);
    if (cols.size() < 5) continue;
    Pair p{cols[1], cols[2], fs::path(kSigma + "/" + cols[0]).parent_path().string(), {}};
    std::stringstream logs(cols[4]);
    while (logs >> c) p.logs.push_back(c);
    out.push_back(std::move(p));
  }
  return out;
}

TEST(SigmaCorpus, RegressionPairsFireTheirRule) {
  if (!fs::exists(kSigma)) GTEST_SKIP() << "corpus not found at " << kSigma;
  const LoadResult& r = Corpus();
  Engine engine(r.rules);
  auto pairs = RegressionPairs();
  int fired = 0, total = 0;
  std::uint64_t seq = 0;
  for (const auto& p : pairs) {
    ++total;
    std::vector<Alert> alerts;
    for (const auto& log : p.logs) {
      std::string text = testing::ReadFile(p.dir + "/" + log);
      std::vector<std::string> events;
      if (log.ends_with(".json")) {
        events = testing::SplitJsonStream(text);
      } else {
        std::istringstream lines(text);
        std::string l;
        while (std::getline(lines, l)) {
          if (!l.empty()) events.push_back(l);
        }
      }
      for (const auto& e : events) {
        ++seq;
        engine.Process(testing::MakeRecord(e, static_cast<std::int64_t>(seq) * 1'000'000, seq),
                       &alerts);
      }
    }
    bool ok = std::any_of(alerts.begin(), alerts.end(),
                          [&](const Alert& a) { return a.rule_id == p.rule_id; });
    if (ok) {
      ++fired;
    } else {
      int idx = r.rules->Find(p.rule_id);
      std::printf("  did not fire: %s %s (%s)\n", p.rule_id.c_str(), p.title.c_str(),
                  idx < 0 ? "rule not loaded" : "loaded");
    }
  }
  std::printf("sigma regression pairs: %d/%d fired their rule\n", fired, total);
  EXPECT_GE(total, 150);
  EXPECT_GE(fired * 100, total * 95);
}

// Stub base rules named like the references of a correlation, so that it can be resolved.
std::string Stubs(const std::string& correlation_yaml) {
  std::string out;
  std::istringstream in(correlation_yaml);
  std::string line;
  bool in_rules = false;
  while (std::getline(in, line)) {
    std::string t =
        line.substr(line.find_first_not_of(' ') == std::string::npos ? line.size()
                                                                     : line.find_first_not_of(' '));
    if (t.starts_with("rules:")) {
      in_rules = true;
    } else if (in_rules && t.starts_with("- ")) {
      std::string ref = t.substr(2);
      out += "title: stub\nid: " + ref +
             "\nlogsource: {product: windows}\n"
             "detection:\n  s:\n    EventID: 1\n  condition: s\n---\n";
    } else {
      in_rules = false;
    }
  }
  return out;
}

TEST(SigmaSpecification, ExampleRulesLoad) {
  if (!fs::exists(kSpec)) GTEST_SKIP() << "corpus not found at " << kSpec;
  int files = 0, loaded = 0, unsupported = 0;
  for (const char* dir : {"rules", "correlation"}) {
    for (const auto& f : fs::directory_iterator(kSpec + "/tests/schema/" + dir)) {
      ++files;
      std::string text = testing::ReadFile(f.path().string());
      auto r =
          LoadRuleStrings({RuleSource{"stubs", Stubs(text)}, RuleSource{f.path().string(), text}});
      EXPECT_EQ(r.errors(), 0) << r.Format();
      for (const auto& d : r.diagnostics) {
        if (d.level == Diagnostic::Level::kUnsupported) {
          ++unsupported;
          std::printf("  %s\n", d.ToString().c_str());
        }
      }
      loaded += r.unsupported() == 0 && r.errors() == 0;
    }
  }
  std::printf("specification examples: %d of %d loaded, %d unsupported\n", loaded, files,
              unsupported);
  EXPECT_GE(files, 10);  // 2 rules, 8 correlations (every correlation type)
  EXPECT_EQ(loaded, files);
  EXPECT_EQ(unsupported, 0);
}

}  // namespace
}  // namespace mamori::rules
