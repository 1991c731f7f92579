// Cost of the hash chain and checkpoints on the ingest path: EvidenceStore::Append of
// 8192-record batches (~250-byte syslog lines) with evidence.chain on and off, and the chain
// arithmetic alone. Run: evidence_bench --benchmark_repetitions=3 (items_per_second = records/s).
// The "on" case also signs a checkpoint every 32 batches (far more often than every 10 s).
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "mamori/storage/chain.h"
#include "mamori/storage/evidence_store.h"
#include "mamori/storage/signing.h"

namespace mamori::storage {
namespace {

constexpr std::size_t kBatch = 8192;

Record MakeRecord(std::uint64_t i) {
  Record r;
  r.raw.bytes = "<34>1 2026-11-26T23:16:29.123Z web-" + std::to_string(i % 50) +
                " sshd 4123 - - Failed password for invalid user admin" + std::to_string(i) +
                " from 203.0.113." + std::to_string(i % 255) +
                " port 52314 ssh2 session=" + std::string(120, 'x');
  r.raw.received_ns = 1'764'198'989'000'000'000 + static_cast<std::int64_t>(i) * 1000;
  r.raw.listener = "syslog-tcp";
  r.raw.transport = Transport::kTcp;
  r.raw.peer = "10.0.0.1:514";
  r.raw.original_size = r.raw.bytes.size();
  r.event.event_time_ns = r.raw.received_ns;
  r.event.host = "web-" + std::to_string(i % 50);
  r.event.app = "sshd";
  r.event.message = r.raw.bytes.substr(60);
  r.event.format = "rfc5424";
  return r;
}

void BM_Append(benchmark::State& state) {
  const bool chain = state.range(0) != 0;
  std::string tmpl = (std::filesystem::temp_directory_path() / "mamori-bench-XXXXXX").string();
  const std::string dir = mkdtemp(tmpl.data());
  StoreOptions o;
  o.dir = dir + "/db";
  o.chain = chain;
  auto store = std::move(EvidenceStore::Open(o)).value();
  auto key = std::move(SigningKey::LoadOrCreate(dir + "/signing.key", nullptr)).value();
  std::vector<Record> proto;
  for (std::size_t i = 0; i < kBatch; ++i) proto.push_back(MakeRecord(i));
  std::uint64_t batches = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<Record> batch = proto;
    state.ResumeTiming();
    if (!store->Append(batch).ok()) state.SkipWithError("append failed");
    if (chain && ++batches % 32 == 0) {
      if (!store->AddCheckpoint(*key, 0).ok()) state.SkipWithError("checkpoint failed");
    }
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  store.reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_Append)
    ->Arg(0)
    ->Arg(1)
    ->ArgName("chain")
    ->Unit(benchmark::kMillisecond)
    ->MinTime(2.0)
    ->UseRealTime();

void BM_ChainStep(benchmark::State& state) {
  ChainHasher h;
  const Record r = MakeRecord(1);
  const std::string salt(kSaltBytes, 's');
  Hash head{};
  std::uint64_t seq = 0;
  for (auto _ : state) {
    head = h.Link(head, ++seq, h.RecordDigest(r.raw, r.event.info_class, salt));
    benchmark::DoNotOptimize(head);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(r.raw.bytes.size()));
}
BENCHMARK(BM_ChainStep);

}  // namespace
}  // namespace mamori::storage

BENCHMARK_MAIN();
