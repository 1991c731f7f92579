// `mamori rules test` and `mamori rules backtest`: the rule author's and the CSIRT's tools. Both
// run the same engine as the daemon over records parsed by the same parsers.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "commands.h"
#include "detection.h"
#include "flags.h"
#include "mamori/core/clock.h"
#include "mamori/core/config.h"
#include "mamori/parsers/classifier.h"
#include "mamori/parsers/parser.h"
#include "mamori/rules/engine.h"
#include "mamori/rules/loader.h"
#include "mamori/storage/evidence_store.h"
#include "mamori/storage/query.h"

namespace mamori::app {
namespace {

constexpr const char* kRulesUsage =
    R"(usage: mamori rules test RULES... [--log FILE] [--utc-offset OFF] [--verbose]
       mamori rules backtest --data-dir DIR --from TIME --to TIME --rules PATH [--rules PATH...]

test      loads the rules (files or directories) and, with --log, runs them over the log file
          (one message per line, parsed and classified as the daemon does) printing each alert as a JSON
          line; without --log, checks the samples embedded in the rule files (`tests:` with
          `match` and `no_match`). A one-line sample must (or must not) match the rule's
          conditions; a multi-line sample is a series of events that must (or must not) make the
          rule alert. Exits 1 when a rule fails to load or a sample fails (each is printed).
backtest  replays the stored evidence between --from and --to (read-only; safe while the daemon
          runs) through the rules, in event-time order, and prints what would have fired: one
          JSON line per alert, then {"backtest": {"events", "alerts", "rules": {id: count}}}.

flags:
  --log FILE        a log file to run the rules over (test)
  --utc-offset OFF  zone for timestamps without one, e.g. +09:00 (default: UTC)
  --verbose         print passing samples too (test)
  --data-dir DIR    the evidence store (backtest)
  --from, --to      time bounds: RFC 3339, YYYY-MM-DD or Unix seconds (backtest)
  --rules PATH      rule file or directory, repeatable (backtest)
)";

void PrintJsonLine(const nlohmann::json& j) {
  std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stdout);
}

// The classifier with the default classification settings (My Number detection on), as the
// daemon runs it after parsing. Never destroyed.
const parsers::Classifier& DefaultClassifier() {
  static const parsers::Classifier* c = [] {
    auto made = parsers::Classifier::Create(DefaultConfig().classification, nullptr);
    return made.ok() ? std::move(made).value().release() : nullptr;
  }();
  return *c;
}

Record ParseLine(const std::string& line, std::uint64_t seq, std::int64_t now_ns,
                 int utc_offset_minutes) {
  Record r;
  r.seq = seq;
  r.raw.bytes = line;
  r.raw.original_size = line.size();
  r.raw.received_ns = now_ns;
  r.raw.listener = "rules-test";
  r.raw.transport = Transport::kFile;
  parsers::ParseContext ctx;
  ctx.utc_offset_minutes = utc_offset_minutes;
  r.event = parsers::Parse(r.raw, ctx);
  DefaultClassifier().Classify(&r.event);
  return r;
}

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    std::string line = text.substr(start, nl - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) out.push_back(std::move(line));
    start = nl + 1;
  }
  return out;
}

std::string Describe(const Event& e) {
  return "format=" + e.format + " host=" + e.host + " app=" + e.app;
}

// Checks every embedded sample with a fresh engine; returns the number of failures.
int CheckSamples(const std::shared_ptr<const rules::RuleSet>& set, int utc_offset, bool verbose) {
  const std::int64_t now = SystemClock::Instance().NowNs();
  int passed = 0, failed = 0;
  std::map<std::string, int> per_rule;
  for (const auto& s : set->samples()) {
    ++per_rule[s.rule_id];
    const int idx = set->Find(s.rule_id);
    std::string where = s.file + ":" + std::to_string(s.line_no) + ": " + s.rule_id;
    if (idx < 0) {
      std::printf("FAIL %s: the rule did not load\n", where.c_str());
      ++failed;
      continue;
    }
    rules::Engine engine(set);
    std::vector<rules::Alert> alerts;
    std::vector<std::string> lines = SplitLines(s.line);
    std::string parsed;
    for (std::size_t i = 0; i < lines.size(); ++i) {
      Record r = ParseLine(lines[i], i + 1, now, utc_offset);
      if (parsed.empty()) parsed = Describe(r.event);
      engine.Process(r, &alerts);
    }
    const bool alerted = std::any_of(alerts.begin(), alerts.end(),
                                     [&](const rules::Alert& a) { return a.rule_id == s.rule_id; });
    const bool single = lines.size() == 1;
    const bool hit = single ? (alerted || engine.Stats()[idx].matches > 0) : alerted;
    const char* what = single ? "match" : "alert";
    if (hit == s.should_match && !lines.empty()) {
      ++passed;
      if (verbose) std::printf("ok   %s: %s%s\n", where.c_str(), hit ? "" : "no ", what);
      continue;
    }
    ++failed;
    std::printf("FAIL %s: expected %s%s, got %s%s (%s)\n", where.c_str(),
                s.should_match ? "" : "no ", what, hit ? "" : "no ", what, parsed.c_str());
    for (const auto& l : lines) std::printf("     | %s\n", l.c_str());
  }
  for (std::size_t i = 0; i < set->size(); ++i) {
    if (per_rule.count(set->info(i).id) == 0) {
      std::printf("note %s:%d: %s: no samples\n", set->info(i).file.c_str(), set->info(i).line,
                  set->info(i).id.c_str());
    }
  }
  std::printf("samples: %d/%d passed, %zu rules\n", passed, passed + failed, set->size());
  return failed;
}

int RunOverLog(const std::shared_ptr<const rules::RuleSet>& set, const std::string& path,
               int utc_offset) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "mamori rules test: cannot read %s\n", path.c_str());
    return kExitFailure;
  }
  rules::Engine engine(set);
  const std::int64_t now = SystemClock::Instance().NowNs();
  std::vector<rules::Alert> alerts;
  std::map<std::string, std::uint64_t> per_rule;
  std::string line;
  std::uint64_t n = 0;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    ++n;  // seq = line number
    if (line.empty()) continue;
    engine.Process(ParseLine(line, n, now, utc_offset), &alerts);
    for (const auto& a : alerts) {
      ++per_rule[a.rule_id];
      PrintJsonLine(AlertToJson(a));
    }
    alerts.clear();
  }
  std::fprintf(stderr, "%llu lines, evidence_seqs are line numbers\n",
               static_cast<unsigned long long>(n));
  for (const auto& [id, count] : per_rule) {
    std::fprintf(stderr, "  %-40s %llu alerts\n", id.c_str(),
                 static_cast<unsigned long long>(count));
  }
  return kExitOk;
}

int TestCommand(const std::vector<std::string>& args) {
  FlagSpec spec{{"log", "utc-offset"}, {"help", "verbose"}};
  auto flags = Flags::Parse(args, spec);
  if (!flags.ok()) {
    std::fprintf(stderr, "mamori rules test: %s\n\n%s", flags.status().message().c_str(),
                 kRulesUsage);
    return kExitUsage;
  }
  if (flags->Has("help")) {
    std::fputs(kRulesUsage, stdout);
    return kExitOk;
  }
  if (flags->positional().empty()) {
    std::fprintf(stderr, "mamori rules test: name at least one rule file or directory\n\n%s",
                 kRulesUsage);
    return kExitUsage;
  }
  int utc_offset = 0;
  if (auto v = flags->Get("utc-offset")) {
    auto off = ParseUtcOffset(*v);
    if (!off.ok()) {
      std::fprintf(stderr, "mamori rules test: --utc-offset: %s\n", off.status().message().c_str());
      return kExitUsage;
    }
    utc_offset = *off;
  }
  rules::LoadResult loaded = rules::LoadRuleFiles(flags->positional());
  for (const auto& d : loaded.diagnostics) std::fprintf(stderr, "%s\n", d.ToString().c_str());
  std::fprintf(stderr, "loaded %zu rules from %d files (%d errors, %d warnings, %d unsupported)\n",
               loaded.rules->size(), loaded.files, loaded.errors(), loaded.warnings(),
               loaded.unsupported());
  const bool load_failed = loaded.errors() > 0;
  if (auto log_file = flags->Get("log")) {
    int rc = RunOverLog(loaded.rules, *log_file, utc_offset);
    return rc != kExitOk ? rc : (load_failed ? kExitFailure : kExitOk);
  }
  int failed = CheckSamples(loaded.rules, utc_offset, flags->Has("verbose"));
  return failed > 0 || load_failed ? kExitFailure : kExitOk;
}

int BacktestCommand(const std::vector<std::string>& args) {
  FlagSpec spec{{"data-dir", "from", "to", "rules"}, {"help"}};
  auto flags = Flags::Parse(args, spec);
  if (!flags.ok()) {
    std::fprintf(stderr, "mamori rules backtest: %s\n\n%s", flags.status().message().c_str(),
                 kRulesUsage);
    return kExitUsage;
  }
  if (flags->Has("help")) {
    std::fputs(kRulesUsage, stdout);
    return kExitOk;
  }
  auto dir = flags->Get("data-dir");
  auto from = flags->Get("from");
  auto to = flags->Get("to");
  std::vector<std::string> paths = flags->GetAll("rules");
  for (const auto& p : flags->positional()) paths.push_back(p);
  if (!dir || !from || !to || paths.empty()) {
    std::fprintf(stderr,
                 "mamori rules backtest: --data-dir, --from, --to and --rules are "
                 "required\n\n%s",
                 kRulesUsage);
    return kExitUsage;
  }
  auto query = storage::QueryFromParams({{"from", *from}, {"to", *to}, {"limit", "10000"}});
  if (!query.ok()) {
    std::fprintf(stderr, "mamori rules backtest: %s\n", query.status().message().c_str());
    return kExitUsage;
  }
  rules::LoadResult loaded = rules::LoadRuleFiles(paths);
  for (const auto& d : loaded.diagnostics) std::fprintf(stderr, "%s\n", d.ToString().c_str());
  storage::StoreOptions opts;
  opts.dir = *dir;
  opts.read_only = true;
  auto store = storage::EvidenceStore::Open(opts);
  if (!store.ok()) {
    std::fprintf(stderr, "mamori rules backtest: %s\n", store.status().ToString().c_str());
    return kExitFailure;
  }
  // Collect (event time, seq) of the range, then replay oldest first: memory is 16 bytes per
  // record, not the records.
  std::vector<std::pair<std::int64_t, std::uint64_t>> order;
  storage::Query q = *query;
  for (;;) {
    auto page = (*store)->Search(q);
    if (!page.ok()) {
      std::fprintf(stderr, "mamori rules backtest: %s\n", page.status().ToString().c_str());
      return kExitFailure;
    }
    for (const auto& r : page->records) order.emplace_back(r.event.event_time_ns, r.seq);
    if (page->next_cursor.empty()) break;
    q.cursor = page->next_cursor;
  }
  std::sort(order.begin(), order.end());
  rules::Engine engine(loaded.rules);
  std::vector<rules::Alert> alerts;
  std::map<std::string, std::uint64_t> per_rule;
  std::uint64_t total = 0;
  for (const auto& [t, seq] : order) {
    auto rec = (*store)->Get(seq);
    if (!rec.ok() || !rec->has_value()) {
      std::fprintf(stderr, "mamori rules backtest: record %llu: %s\n",
                   static_cast<unsigned long long>(seq),
                   rec.ok() ? "missing" : rec.status().ToString().c_str());
      return kExitFailure;
    }
    engine.Process(**rec, &alerts);
    for (const auto& a : alerts) {
      ++per_rule[a.rule_id];
      ++total;
      PrintJsonLine(AlertToJson(a));
    }
    alerts.clear();
  }
  nlohmann::json summary;
  summary["events"] = order.size();
  summary["alerts"] = total;
  summary["rules"] = per_rule;
  summary["rules_loaded"] = loaded.rules->size();
  summary["load_errors"] = loaded.errors();
  PrintJsonLine({{"backtest", summary}});
  return kExitOk;
}

}  // namespace

int RulesCommand(const std::vector<std::string>& args) {
  if (args.empty() || args.front() == "--help" || args.front() == "help") {
    std::fputs(kRulesUsage, args.empty() ? stderr : stdout);
    return args.empty() ? kExitUsage : kExitOk;
  }
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args.front() == "test") return TestCommand(rest);
  if (args.front() == "backtest") return BacktestCommand(rest);
  std::fprintf(stderr, "mamori rules: unknown subcommand '%s'\n\n%s", args.front().c_str(),
               kRulesUsage);
  return kExitUsage;
}

}  // namespace mamori::app
