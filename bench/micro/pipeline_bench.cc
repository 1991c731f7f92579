// The whole ingest path of `mamori serve`, in one process and one thread, for instruction
// counts: TCP framing -> Record -> parse -> classify -> parse stats -> source tracker ->
// EvidenceStore::Append (RocksDB batch, hash chain, indexes) -> rule engine (Detection::OnStored,
// as the daemon's rule thread runs it). No sockets and no queue: what is left is the CPU work per
// message, which is what a busy 2-core machine cannot measure with a wall clock.
//
// Messages: the lines of ../shared/corpora/loghub/*/*.log, interleaved and given RFC 3164 headers
// and a " seq=N" suffix exactly like bench/loadgen.cc builds them.
//
// Run (fixed work; Ir / messages is the per-message cost of each stage):
//   valgrind --tool=callgrind --toggle-collect='*Stage*' build/bench/micro/pipeline_bench
// Environment:
//   MAMORI_BENCH_MESSAGES=N   messages (default 100000)
//   MAMORI_BENCH_RULES=0      storage only (no rule engine); default: the default rule pack plus
//                             the first MAMORI_BENCH_SIGMA (100) Sigma rules of the corpus (sorted)
//   MAMORI_BENCH_CHAIN=0      evidence.chain off
// Prints messages/s (wall clock; meaningless under valgrind) and the stage split.
#include <prometheus/registry.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "../../app/src/detection.h"
#include "mamori/collector/sources.h"
#include "mamori/collector/tcp_framer.h"
#include "mamori/core/clock.h"
#include "mamori/core/config.h"
#include "mamori/parsers/classifier.h"
#include "mamori/parsers/parser.h"
#include "mamori/storage/evidence_store.h"

namespace fs = std::filesystem;
using namespace mamori;

namespace {

const std::string kCorpora = MAMORI_CORPORA;
const std::string kSource = MAMORI_SOURCE_DIR;

std::size_t EnvSize(const char* name, std::size_t dflt) {
  const char* v = std::getenv(name);
  return v == nullptr || *v == '\0' ? dflt : std::strtoull(v, nullptr, 10);
}

// loadgen.cc's corpus: every non-empty line of loghub/*/*.log, data sets interleaved.
std::vector<std::string> Messages(std::size_t n) {
  struct Line {
    std::string text;
    std::size_t source;
  };
  std::vector<std::string> sources;
  std::vector<std::vector<Line>> per;
  std::vector<fs::path> dirs;
  for (auto& d : fs::directory_iterator(kCorpora + "/loghub")) {
    if (d.is_directory()) dirs.push_back(d.path());
  }
  std::sort(dirs.begin(), dirs.end());
  for (const auto& d : dirs) {
    std::vector<fs::path> files;
    for (auto& f : fs::directory_iterator(d)) {
      if (f.path().extension() == ".log") files.push_back(f.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      std::ifstream in(f, std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      std::vector<Line> lines;
      std::string l;
      std::istringstream is(ss.str());
      while (std::getline(is, l)) {
        while (!l.empty() && (l.back() == '\r' || l.back() == ' ')) l.pop_back();
        if (!l.empty()) lines.push_back({l, sources.size()});
      }
      if (!lines.empty()) {
        sources.push_back(d.filename().string());
        per.push_back(std::move(lines));
      }
    }
  }
  std::vector<Line> mixed;
  for (std::size_t i = 0;; ++i) {
    bool any = false;
    for (auto& v : per) {
      if (i < v.size()) {
        mixed.push_back(v[i]);
        any = true;
      }
    }
    if (!any) break;
  }
  static constexpr int kSeverities[] = {6, 6, 6, 5, 4, 6, 3, 6};
  std::vector<std::string> out;
  out.reserve(n);
  for (std::size_t seq = 0; seq < n; ++seq) {
    const std::size_t i = seq % mixed.size();
    const std::string& app = sources[mixed[i].source];
    const int pri = (16 + static_cast<int>(mixed[i].source % 8)) * 8 + kSeverities[i % 8];
    std::string host = "bench-" + app + "-" + std::to_string(i % 4);
    std::transform(host.begin(), host.end(), host.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    char buf[256];
    std::snprintf(buf, sizeof buf, "<%d>Nov 27 02:10:00 %s %s[%d]: ", pri, host.c_str(),
                  app.c_str(), 1000 + static_cast<int>(i % 97));
    out.push_back(buf + mixed[i].text + " seq=" + std::to_string(seq));
  }
  return out;
}

struct Pipeline {
  Config config;
  prometheus::Registry registry;
  std::unique_ptr<storage::EvidenceStore> store;
  std::unique_ptr<app::Detection> detection;
  std::unique_ptr<parsers::Classifier> classifier;
  std::unique_ptr<parsers::ParseStats> stats;
  std::unique_ptr<collector::SourceTracker> sources;
  ListenerConfig listener;
};

// The I/O thread's work for one read: frames -> records, parsed and classified.
__attribute__((noinline)) void StageCollect(Pipeline& p, collector::TcpFramer& framer,
                                            std::string_view wire, std::vector<Record>* out) {
  std::vector<collector::Frame> frames;
  framer.Feed(wire, &frames);
  const std::int64_t now = SystemClock::Instance().NowNs();
  const std::string peer = "127.0.0.1:40000";
  // As the daemon's processor (app/src/daemon.cc): metrics counted per read, published once.
  parsers::Classifier::Tally class_tally;
  parsers::ParseStats::Tally parse_tally;
  collector::SourceTracker::Tally source_tally;
  for (auto& f : frames) {
    Record& r = out->emplace_back();
    r.raw.bytes = std::move(f.bytes);
    r.raw.received_ns = now;
    r.raw.listener = p.listener.name;
    r.raw.transport = Transport::kTcp;
    r.raw.peer = peer;
    r.raw.original_size = f.original_size;
    parsers::ParseContext ctx;
    ctx.utc_offset_minutes = p.listener.utc_offset_minutes;
    ctx.format = p.listener.format;
    parsers::Parse(r.raw, ctx, &r.event);
    p.classifier->Classify(&r.event, &class_tally);
    p.stats->Count(r.event, &parse_tally);
    p.sources->Observe(r, &source_tally);
  }
  p.classifier->Publish(&class_tally);
  p.stats->Publish(&parse_tally);
  p.sources->Publish(&source_tally);
}

__attribute__((noinline)) void StageStore(Pipeline& p, std::vector<Record>& batch) {
  if (Status s = p.store->Append(batch); !s.ok()) {
    std::fprintf(stderr, "append: %s\n", s.ToString().c_str());
    std::exit(1);
  }
}

__attribute__((noinline)) void StageRules(Pipeline& p, std::vector<Record>& batch) {
  p.detection->OnStored(batch);
}

}  // namespace

int main() {
  const std::size_t n = EnvSize("MAMORI_BENCH_MESSAGES", 100000);
  const bool rules = EnvSize("MAMORI_BENCH_RULES", 1) != 0;
  const std::size_t sigma = EnvSize("MAMORI_BENCH_SIGMA", 100);
  const std::vector<std::string> msgs = Messages(n);

  std::string tmpl = (fs::temp_directory_path() / "mamori-pipeline-XXXXXX").string();
  const std::string dir = mkdtemp(tmpl.data());
  Pipeline p;
  p.config = DefaultConfig();
  p.config.data_dir = dir;
  p.config.evidence.chain = EnvSize("MAMORI_BENCH_CHAIN", 1) != 0;
  p.listener = p.config.listeners.at(0);
  if (rules) {
    p.config.rules.paths.push_back(kSource + "/rules/default");
    std::vector<fs::path> files;
    for (auto& f : fs::recursive_directory_iterator(kCorpora + "/sigma/rules")) {
      if (f.path().extension() == ".yml") files.push_back(f.path());
    }
    std::sort(files.begin(), files.end());
    for (std::size_t i = 0; i < std::min(sigma, files.size()); ++i) {
      p.config.rules.paths.push_back(files[i].string());
    }
  }
  storage::StoreOptions so;
  so.dir = dir + "/store";
  so.chain = p.config.evidence.chain;
  so.block_cache_bytes = p.config.storage.block_cache_bytes;
  p.store = std::move(storage::EvidenceStore::Open(so)).value();
  if (rules) {
    auto d = app::Detection::Create(p.config, p.registry, SystemClock::Instance());
    if (!d.ok()) {
      std::fprintf(stderr, "rules: %s\n", d.status().ToString().c_str());
      return 1;
    }
    p.detection = std::move(d).value();
  }
  p.classifier =
      std::move(parsers::Classifier::Create(p.config.classification, &p.registry)).value();
  p.stats = std::make_unique<parsers::ParseStats>(p.registry);
  p.sources = std::move(collector::SourceTracker::Create(p.config.sources, p.registry)).value();

  // The wire: LF-framed, cut into 256 KiB reads like the load generator's writes.
  std::string wire;
  for (const auto& m : msgs) wire.append(m).push_back('\n');
  collector::TcpFramer framer(p.listener.max_message_bytes);
  const std::size_t batch_max = p.config.storage.write_batch_max_records;
  std::vector<Record> batch;
  double t_collect = 0, t_store = 0, t_rules = 0;
  using clk = std::chrono::steady_clock;
  const auto start = clk::now();
  for (std::size_t off = 0; off < wire.size(); off += 256 * 1024) {
    auto t0 = clk::now();
    StageCollect(p, framer, std::string_view(wire).substr(off, 256 * 1024), &batch);
    auto t1 = clk::now();
    t_collect += std::chrono::duration<double>(t1 - t0).count();
    if (batch.size() >= batch_max || off + 256 * 1024 >= wire.size()) {
      StageStore(p, batch);
      auto t2 = clk::now();
      t_store += std::chrono::duration<double>(t2 - t1).count();
      if (rules) StageRules(p, batch);
      t_rules += std::chrono::duration<double>(clk::now() - t2).count();
      batch.clear();
    }
  }
  const double total = std::chrono::duration<double>(clk::now() - start).count();
  std::printf(
      "messages %zu  rules %s  chain %s\n%.0f msg/s  (collect+parse %.2f us/msg, store %.2f "
      "us/msg, rules %.2f us/msg)\n",
      n, rules ? "default+sigma" : "off", so.chain ? "on" : "off", n / total, t_collect * 1e6 / n,
      t_store * 1e6 / n, t_rules * 1e6 / n);
  p.detection.reset();
  p.store.reset();
  fs::remove_all(dir);
  return 0;
}
