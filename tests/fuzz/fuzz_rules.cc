// libFuzzer target: a rule file of arbitrary bytes (mamori YAML rules or Sigma rules, several
// documents) through the loader and compiler, then every rule that loaded through the engine
// with a few fixed events (a syslog line, a flattened Windows event, an empty event).
// Checks what the loader promises: no crash, no hang, no sanitizer report, whatever the text;
// a rule file that does not load is reported in diagnostics, never thrown.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "fuzz_records.h"
#include "mamori/rules/engine.h"
#include "mamori/rules/loader.h"

namespace {

std::vector<mamori::Record> Events() {
  std::vector<mamori::Record> out(3);
  out[0] = mamori::fuzz::SshdFailureRecord();
  const mamori::Record& s = out[0];
  mamori::Record& w = out[1];
  w.seq = 2;
  w.raw.bytes = "{\"Event\":{}}";
  w.raw.received_ns = s.raw.received_ns + 1'000'000'000;
  w.event.format = "windows";
  w.event.event_time_ns = w.raw.received_ns;
  w.event.fields = {{"Event.System.EventID", "4625"},
                    {"Event.System.Channel", "Security"},
                    {"Event.EventData.CommandLine", "powershell -enc SQBFAFgA"},
                    {"Event.EventData.Image", "C:\\Windows\\System32\\cmd.exe"},
                    {"Event.EventData.IpAddress", "192.168.1.20"}};
  out[2].seq = 3;
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<mamori::Record> events = Events();
  mamori::rules::RuleSource src{"fuzz.yml", std::string(reinterpret_cast<const char*>(data), size)};
  mamori::rules::LoadResult r = mamori::rules::LoadRuleStrings({src});
  if (r.rules == nullptr) std::abort();  // never null, even when nothing loaded
  (void)r.Format();
  if (r.rules->size() == 0) return 0;
  mamori::rules::Engine engine(r.rules);
  std::vector<mamori::rules::Alert> alerts;
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& e : events) engine.Process(e, &alerts);
  }
  engine.Tick(events[1].raw.received_ns + 3600'000'000'000, &alerts);
  engine.Reload(r.rules);
  for (const auto& e : events) engine.Process(e, &alerts);
  return 0;
}
