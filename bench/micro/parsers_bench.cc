// Microbenchmarks of the parsers on real lines: messages per second per core, per format.
//
//   build-parsers/bench/micro/parsers_bench [--benchmark_min_time=0.2]
//
// At startup every line of the shared corpora (read in place: Wazuh test cases, loghub
// OpenSSH/Linux/Apache, elastic-beats-testlogs) and of tests/fuzz/seeds is parsed once with
// format "auto" and grouped by the format it got; one benchmark per format then parses its group
// in a loop (Parse with "auto", i.e. including detection and dispatch). "classify/*" measures
// the classifier (My Number scan over message and fields) on the events of all groups.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "mamori/parsers/classifier.h"
#include "mamori/parsers/parser.h"

namespace {

using mamori::Event;
using mamori::RawRecord;

std::map<std::string, std::vector<RawRecord>> groups;

void AddLine(const std::string& line) {
  if (line.empty()) return;
  RawRecord raw;
  raw.bytes = line;
  raw.received_ns = 1'700'000'000'000'000'000;
  Event e = mamori::parsers::Parse(raw, mamori::parsers::ParseContext());
  groups[e.format].push_back(std::move(raw));
}

void ReadFile(const std::string& path, bool wazuh) {
  std::ifstream in(path);
  for (std::string l; std::getline(in, l);) {
    if (!l.empty() && l.back() == '\r') l.pop_back();
    if (wazuh) {
      if (l.rfind("log ", 0) != 0 || l.find(" = ") == std::string::npos) continue;
      l = l.substr(l.find(" = ") + 3);
    }
    AddLine(l);
  }
}

void Load() {
  namespace fs = std::filesystem;
  const std::string c = MAMORI_CORPORA;
  std::error_code ec;
  for (const auto& f : fs::directory_iterator(c + "/wazuh-ruleset/ruleset/testing/tests", ec)) {
    ReadFile(f.path().string(), true);
  }
  for (const char* n : {"OpenSSH", "Linux", "Apache"}) {
    ReadFile(c + "/loghub/" + n + "/" + n + "_2k.log", false);
  }
  for (const auto& f : fs::recursive_directory_iterator(c + "/elastic-beats-testlogs", ec)) {
    if (f.path().extension() == ".log") ReadFile(f.path().string(), false);
  }
  for (const auto& f : fs::directory_iterator(MAMORI_SEEDS, ec)) ReadFile(f.path().string(), false);
}

void BM_Parse(benchmark::State& state, const std::vector<RawRecord>* lines) {
  mamori::parsers::ParseContext ctx;
  std::size_t i = 0, bytes = 0;
  for (auto _ : state) {
    const RawRecord& r = (*lines)[i];
    Event e = mamori::parsers::Parse(r, ctx);
    benchmark::DoNotOptimize(e);
    bytes += r.bytes.size();
    if (++i == lines->size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.counters["lines"] = static_cast<double>(lines->size());
}

void BM_Classify(benchmark::State& state, bool mask) {
  std::vector<Event> events;
  for (const auto& [format, lines] : groups) {
    for (const auto& r : lines) events.push_back(mamori::parsers::Parse(r, {}));
  }
  mamori::ClassificationConfig cfg;
  cfg.mask_my_number = mask;
  auto c = mamori::parsers::Classifier::Create(cfg, nullptr);
  std::size_t i = 0;
  for (auto _ : state) {
    Event e = events[i];  // a copy: masking changes the event
    (*c)->Classify(&e);
    benchmark::DoNotOptimize(e);
    if (++i == events.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

int main(int argc, char** argv) {
  Load();
  for (const auto& [format, lines] : groups) {
    benchmark::RegisterBenchmark(("parse/" + format).c_str(), BM_Parse, &lines);
  }
  // The copy of the event is part of these numbers (see BM_Classify).
  benchmark::RegisterBenchmark("classify/detect", BM_Classify, false);
  benchmark::RegisterBenchmark("classify/detect+mask", BM_Classify, true);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
