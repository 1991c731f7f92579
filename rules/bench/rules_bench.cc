// Events per second through the rule engine with 10, 100 and 1,000 Sigma rules from the corpus,
// on the corpus's Windows regression events (JSON) and loghub Linux/OpenSSH lines.
//
// The corpus holds 758 Sigma rules, so the honest sets are 10, 100 and 758 distinct corpus rules.
// The "1000" set is the whole corpus plus 242 SYNTHETIC rules with distinct literals (no two share
// a pattern), labeled as such in the output.
//
// Fixed-work mode for instruction counts (stable on a busy machine):
//   MAMORI_BENCH_RULES=758 MAMORI_BENCH_PASSES=3 valgrind --tool=callgrind
//       --toggle-collect='*MeasuredPasses*' rules_bench
// prints events processed; Ir / events is the per-event instruction cost. MAMORI_BENCH_ALERTS=1
// also prints every alert of the measured passes (rule id, evidence seq) to stderr.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string_view>

#include "mamori/rules/engine.h"
#include "mamori/rules/loader.h"

namespace {

namespace fs = std::filesystem;
using namespace mamori;
using namespace mamori::rules;

const std::string kCorpora = MAMORI_CORPORA;

std::string Read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void Flatten(const nlohmann::json& j, const std::string& prefix, Event* out) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      Flatten(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), out);
    }
  } else if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i) Flatten(j[i], prefix + "." + std::to_string(i), out);
  } else if (j.is_string()) {
    out->fields.push_back(Field{prefix, j.get<std::string>()});
  } else if (!j.is_null()) {
    out->fields.push_back(Field{prefix, j.dump()});
  }
}

// MAMORI_BENCH_EVENTS=windows|syslog restricts the events to one kind (default: both).
bool Want(const char* kind) {
  const char* only = std::getenv("MAMORI_BENCH_EVENTS");
  return only == nullptr || std::string_view(only) == kind;
}

const std::vector<Record>& Events() {
  static const std::vector<Record>* events = [] {
    auto* out = new std::vector<Record>();
    std::uint64_t seq = 0;
    if (Want("windows"))
      for (auto& f : fs::recursive_directory_iterator(kCorpora + "/sigma/regression_data")) {
        if (f.path().extension() != ".json") continue;
        std::istringstream in(Read(f.path()));
        while (true) {
          in >> std::ws;
          if (in.peek() == EOF) break;
          nlohmann::json j;
          try {
            in >> j;
          } catch (...) {
            break;
          }
          Record r;
          r.seq = ++seq;
          r.event.event_time_ns = static_cast<std::int64_t>(seq) * 1'000'000;
          r.event.format = "json";
          r.raw.bytes = j.dump();
          Flatten(j, "", &r.event);
          out->push_back(std::move(r));
        }
      }
    for (const char* log : {"/loghub/Linux/Linux_2k.log", "/loghub/OpenSSH/OpenSSH_2k.log"}) {
      if (!Want("syslog")) break;
      std::istringstream in(Read(kCorpora + log));
      std::string line;
      while (std::getline(in, line)) {
        Record r;
        r.seq = ++seq;
        r.event.event_time_ns = static_cast<std::int64_t>(seq) * 1'000'000;
        r.event.format = "rfc3164";
        r.event.message = line;
        r.raw.bytes = line;
        auto colon = line.find(": ");
        auto space = line.rfind(' ', colon);
        if (colon != std::string::npos && space != std::string::npos) {
          std::string tag = line.substr(space + 1, colon - space - 1);
          r.event.app = tag.substr(0, tag.find('['));
          r.event.message = line.substr(colon + 2);
        }
        out->push_back(std::move(r));
      }
    }
    return out;
  }();
  return *events;
}

std::vector<fs::path> CorpusFiles() {
  std::vector<fs::path> files;
  for (const char* dir :
       {"/sigma/rules", "/sigma/rules-emerging-threats", "/sigma/rules-threat-hunting"}) {
    for (auto& f : fs::recursive_directory_iterator(kCorpora + dir)) {
      if (f.path().extension() == ".yml") files.push_back(f.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

// A synthetic Sigma rule, distinct from every other one: its own literals (built from the index
// so that no two synthetic rules share a pattern) on fields and log sources real rules use most.
std::string SyntheticRule(size_t i) {
  static const char* kWords[] = {"alpha", "bravo", "carol", "delta", "ecru",  "fjord",
                                 "gusto", "hazel", "ivory", "jumbo", "kayak", "lumen"};
  const std::string w = std::string(kWords[i % 12]) + kWords[(i / 12) % 12] + std::to_string(i);
  std::string logsource, detection;
  switch (i % 4) {
    case 0:
      logsource = "  product: windows\n  category: process_creation\n";
      detection = "  selection:\n    Image|endswith: '\\" + w +
                  ".exe'\n    CommandLine|contains: ' -" + w + " '\n  condition: selection\n";
      break;
    case 1:
      logsource = "  product: windows\n  category: file_event\n";
      detection = "  selection:\n    TargetFilename|contains: '\\" + w + "\\'\n" +
                  "  condition: selection\n";
      break;
    case 2:
      logsource = "  product: windows\n  service: security\n";
      detection = "  selection:\n    EventID: 4688\n    NewProcessName|endswith: '\\" + w +
                  ".exe'\n  condition: selection\n";
      break;
    default:
      logsource = "  product: linux\n";
      detection = "  keywords:\n    - '" + w + " failed for'\n    - 'session " + w +
                  " opened'\n  condition: keywords\n";
      break;
  }
  return "title: synthetic " + w + "\nid: synthetic-" + std::to_string(i) + "\nlogsource:\n" +
         logsource + "detection:\n" + detection + "level: low\n";
}

// n <= 758: n distinct corpus rules spread over the corpus. n > 758: the whole corpus plus
// n - 758 synthetic rules (distinct literals; see SyntheticRule).
std::shared_ptr<const RuleSet> Rules(size_t n) {
  static const std::vector<fs::path> files = CorpusFiles();
  std::vector<RuleSource> sources;
  const size_t from_corpus = std::min(n, files.size());
  for (size_t i = 0; i < from_corpus; ++i) {
    size_t idx = i * files.size() / from_corpus;
    sources.push_back(RuleSource{files[idx].string(), Read(files[idx])});
  }
  for (size_t i = from_corpus; i < n; ++i) {
    sources.push_back(RuleSource{"synthetic#" + std::to_string(i), SyntheticRule(i)});
  }
  auto r = LoadRuleStrings(sources);
  if (r.rules->size() != n) {
    std::fprintf(stderr, "rules_bench: %zu of %zu rules loaded\n%s", r.rules->size(), n,
                 r.Format().c_str());
  }
  return r.rules;
}

void BM_Engine(benchmark::State& state) {
  auto rules = Rules(static_cast<size_t>(state.range(0)));
  const auto& events = Events();
  Engine engine(rules);
  std::vector<Alert> alerts;
  std::size_t n_alerts = 0;
  for (auto _ : state) {
    for (const auto& r : events) engine.Process(r, &alerts);
    n_alerts = alerts.size();
    alerts.clear();
  }
  state.counters["alerts_per_pass"] = static_cast<double>(n_alerts);
  if (std::getenv("MAMORI_BENCH_TOP") != nullptr) {  // which rules fire most
    auto stats = engine.Stats();
    std::vector<std::pair<std::uint64_t, std::string>> top;
    for (size_t i = 0; i < stats.size(); ++i)
      top.emplace_back(stats[i].alerts, rules->info(i).file);
    std::sort(top.rbegin(), top.rend());
    for (size_t i = 0; i < 8 && i < top.size(); ++i) {
      std::fprintf(stderr, "%10llu %s\n", static_cast<unsigned long long>(top[i].first),
                   top[i].second.c_str());
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * events.size()));
  state.counters["rules"] = static_cast<double>(rules->size());
  state.counters["patterns"] = static_cast<double>(rules->pattern_count());
  state.counters["events"] = static_cast<double>(events.size());
  state.counters["regex_runs"] = static_cast<double>(engine.engine_stats().regex_runs);
}
BENCHMARK(BM_Engine)
    ->Arg(10)
    ->Arg(100)
    ->Arg(758)
    ->Arg(1000)
    ->Unit(benchmark::kMillisecond)
    ->MinTime(0.5);

// The measured passes; callgrind collects inside this function only (--toggle-collect).
__attribute__((noinline)) std::size_t MeasuredPasses(Engine* engine,
                                                     const std::vector<Record>& events,
                                                     int passes) {
  std::vector<Alert> alerts;
  std::size_t n_alerts = 0;
  const bool print = std::getenv("MAMORI_BENCH_ALERTS") != nullptr;  // rule id and seq per alert
  for (int i = 0; i < passes; ++i) {
    for (const auto& r : events) engine->Process(r, &alerts);
    n_alerts += alerts.size();
    if (print) {
      for (const auto& a : alerts) {
        std::fprintf(
            stderr, "alert %s %llu\n", a.rule_id.c_str(),
            static_cast<unsigned long long>(a.evidence_seqs.empty() ? 0 : a.evidence_seqs.back()));
      }
    }
    alerts.clear();
  }
  return n_alerts;
}

// MAMORI_BENCH_RULES=n [MAMORI_BENCH_PASSES=p]: one warm-up pass (fills RE2's DFA caches), then
// p measured passes, and exit. For callgrind (see the top of this file).
int FixedWork() {
  size_t n = std::strtoul(std::getenv("MAMORI_BENCH_RULES"), nullptr, 10);
  const char* p = std::getenv("MAMORI_BENCH_PASSES");
  int passes = p != nullptr ? std::atoi(p) : 1;
  auto rules = Rules(n);
  const auto& events = Events();
  Engine engine(rules);
  std::vector<Alert> alerts;
  for (const auto& r : events) engine.Process(r, &alerts);  // warm-up
  std::size_t n_alerts = MeasuredPasses(&engine, events, passes);
  std::printf("rules=%zu patterns=%zu measured_events=%zu alerts=%zu\n", rules->size(),
              rules->pattern_count(), events.size() * passes, n_alerts);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (std::getenv("MAMORI_BENCH_RULES") != nullptr) return FixedWork();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
