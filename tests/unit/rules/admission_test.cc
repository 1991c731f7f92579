// Log source admission through the engine's admission cache (engine.cc: the groups admitting an
// event are kept per tuple of the constraint fields' values): over many source groups and random
// events (constraint values in other letter case, absent and empty fields, values too long to
// cache, more distinct tuples than the cache holds), one long-lived engine raises exactly the
// alerts of a fresh engine per event (which computes every admission directly).
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "mamori/rules/engine.h"
#include "test_util.h"

namespace mamori::rules {
namespace {

using testing::Load;

std::string Rules() {
  // 16 rules in more source groups than the cache's minimum (8), on app, format, host and an
  // event field, some groups with two constraints (the second checked after the index lookup),
  // some rules triggered by a literal, the others evaluated on every admitted event.
  const char* sources[] = {
      "{app: sshd}",
      "{app: [sshd, sudo]}",
      "{app: cron, format: rfc3164}",
      "{app: cron, format: [rfc5424, json]}",
      "{format: rfc3164}",
      "{format: [json, cef]}",
      "{host: fw1}",
      "{host: [fw1, fw2], app: kernel}",
      "{channel: Security}",
      "{channel: [security, system], format: json}",
      "{channel: Sysmon}",
      "{app: sudo, host: web}",
      "{format: cef, app: [a1, a2, a3]}",
      "{app: su}",
      "{host: db}",
      "{}",
  };
  std::string out = "rules:\n";
  int i = 0;
  for (const char* s : sources) {
    // Every fourth rule is evaluated on every event its group admits (no literal triggers it).
    const char* match = i % 4 == 3   ? "{not: {message: {contains: y}}}"
                        : i % 4 == 1 ? "{user: {contains: x}}"
                                     : "{message: {contains: x}}";
    out += "  - {id: r" + std::to_string(i++) + ", title: T, severity: low, logsource: " + s +
           ", match: " + match + "}\n";
  }
  return out;
}

std::vector<std::string> Fire(Engine* engine, const Record& r) {
  std::vector<Alert> alerts;
  engine->Process(r, &alerts);
  std::vector<std::string> ids;
  for (const auto& a : alerts) ids.push_back(a.rule_id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

TEST(Admission, CachedAdmissionEqualsDirectAdmission) {
  auto loaded = Load(Rules());
  ASSERT_TRUE(loaded.ok()) << loaded.Format();
  ASSERT_EQ(loaded.rules->size(), 16u);
  Engine cached(loaded.rules);
  std::mt19937 rng(7);
  const std::vector<std::string> apps = {"sshd",   "SSHD", "sudo", "cron", "Cron",
                                         "kernel", "su",   "a2",   "",     "sshd2"};
  const std::vector<std::string> formats = {"rfc3164", "RFC3164", "rfc5424", "json", "cef", ""};
  const std::vector<std::string> hosts = {"fw1", "FW2", "web", "db", "", "h"};
  const std::vector<std::string> channels = {"Security", "SYSTEM", "sysmon", "", "other"};
  int fired = 0;
  for (int i = 0; i < 12000; ++i) {
    Record r;
    r.seq = static_cast<std::uint64_t>(i + 1);
    r.event.message = rng() % 8 == 0 ? "nothing" : rng() % 2 ? "x marks" : "x and y";
    r.event.app = apps[rng() % apps.size()];
    if (i > 4000 && i < 9000) r.event.app += std::to_string(rng() % 6000);    // many tuples
    if (rng() % 50 == 0) r.event.app = std::string(1500 + rng() % 100, 's');  // not cached
    r.event.format = formats[rng() % formats.size()];
    r.event.host = hosts[rng() % hosts.size()];
    const std::string& ch = channels[rng() % channels.size()];
    if (ch != "other") r.event.fields.push_back(Field{"channel", ch});
    // A field some rule reads but no log source constrains: indexed, the constraint fields
    // absent all the same.
    if (rng() % 3 == 0) r.event.fields.push_back(Field{"user", "x"});
    Engine fresh(loaded.rules);
    auto want = Fire(&fresh, r);
    ASSERT_EQ(Fire(&cached, r), want)
        << "event " << i << " app '" << r.event.app.substr(0, 20) << "' format '" << r.event.format
        << "' host '" << r.event.host << "' channel '" << ch << "'";
    fired += static_cast<int>(want.size());
  }
  EXPECT_GT(fired, 12000);  // the events do reach many groups
}

}  // namespace
}  // namespace mamori::rules
