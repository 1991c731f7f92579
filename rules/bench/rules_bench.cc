// Events per second through the rule engine with 10, 100 and 1,000 Sigma rules from the corpus,
// on the corpus's Windows regression events (JSON) and loghub Linux/OpenSSH lines.
//
// The corpus holds 758 Sigma rules; the 1,000-rule set adds copies of rules under new ids (their
// patterns are identical, so the RE2::Sets deduplicate them; the rule evaluation is not).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

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

const std::vector<Record>& Events() {
  static const std::vector<Record>* events = [] {
    auto* out = new std::vector<Record>();
    std::uint64_t seq = 0;
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

std::shared_ptr<const RuleSet> Rules(size_t n) {
  std::vector<fs::path> files;
  for (const char* dir :
       {"/sigma/rules", "/sigma/rules-emerging-threats", "/sigma/rules-threat-hunting"}) {
    for (auto& f : fs::recursive_directory_iterator(kCorpora + dir)) {
      if (f.path().extension() == ".yml") files.push_back(f.path());
    }
  }
  std::sort(files.begin(), files.end());
  std::vector<RuleSource> sources;
  // Spread the choice over the whole corpus; past its size, copies under new ids.
  for (size_t i = 0; i < n; ++i) {
    size_t idx = (i * files.size() / std::min(n, files.size())) % files.size();
    if (n > files.size()) idx = i % files.size();
    std::string text = Read(files[idx]);
    if (i >= files.size()) {
      auto pos = text.find("\nid: ");
      if (pos != std::string::npos)
        text.insert(text.find('\n', pos + 1), "-copy" + std::to_string(i));
    }
    sources.push_back(RuleSource{files[idx].string() + "#" + std::to_string(i), text});
  }
  return LoadRuleStrings(sources).rules;
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
  state.counters["fallbacks"] = static_cast<double>(engine.engine_stats().regex_fallbacks);
}
BENCHMARK(BM_Engine)->Arg(10)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond)->MinTime(1.0);

}  // namespace

BENCHMARK_MAIN();
