// The literal prefilter (Aho-Corasick keys, verification, FilteredRE2 atoms) must match exactly
// what the RE2 patterns match; and Sigma field names with several candidate event keys.
#include <gtest/gtest.h>

#include "mamori/rules/engine.h"
#include "mamori/rules/sigma_mapping.h"
#include "test_util.h"

namespace mamori::rules {
namespace {

using testing::Load;

bool Fires(const std::shared_ptr<const RuleSet>& rules, const std::string& message,
           std::vector<Field> fields = {}) {
  Engine e(rules);
  std::vector<Alert> alerts;
  e.Process(testing::Syslog("app", message, 0, 1, std::move(fields)), &alerts);
  return !alerts.empty();
}

std::shared_ptr<const RuleSet> Sigma(const std::string& selection) {
  auto r = Load("title: T\nid: t1\nlogsource: {product: linux}\nlevel: low\ndetection:\n" +
                selection + "  condition: sel\n");
  EXPECT_TRUE(r.ok()) << r.Format();
  EXPECT_EQ(r.rules->size(), 1u) << r.Format();
  return r.rules;
}

TEST(LiteralMatcher, ContainsStartsWithEndsWith) {
  auto contains = Sigma("  sel:\n    message|contains: 'Invalid User'\n");
  EXPECT_TRUE(Fires(contains, "invalid user foo"));
  EXPECT_TRUE(Fires(contains, "xINVALID USERx"));
  EXPECT_FALSE(Fires(contains, "invalid_user"));
  auto starts = Sigma("  sel:\n    message|startswith: 'sudo:'\n");
  EXPECT_TRUE(Fires(starts, "SUDO: x"));
  EXPECT_FALSE(Fires(starts, "x sudo:"));
  auto ends = Sigma("  sel:\n    message|endswith: '.sh'\n");
  EXPECT_TRUE(Fires(ends, "a.sh"));
  EXPECT_TRUE(Fires(ends, "a.sh b.SH"));  // the second occurrence is the one at the end
  EXPECT_FALSE(Fires(ends, "a.sh x"));
  auto exact = Sigma("  sel:\n    message: 'exactly this'\n");
  EXPECT_TRUE(Fires(exact, "Exactly This"));
  EXPECT_FALSE(Fires(exact, "exactly this!"));
}

TEST(LiteralMatcher, LongLiteralsAreVerifiedBeyondTheKey) {
  // Longer than the scanner's 16-byte key: the rest is compared at the hit.
  auto r = Sigma("  sel:\n    message|contains: 'authentication failure for user'\n");
  EXPECT_TRUE(Fires(r, "pam: Authentication Failure For User bob"));
  EXPECT_FALSE(Fires(r, "pam: authentication failure for host bob"));
  auto anchored = Sigma("  sel:\n    message|endswith: 'a very long suffix of the line'\n");
  EXPECT_TRUE(Fires(anchored, "x a very long suffix of the line"));
  EXPECT_FALSE(Fires(anchored, "a very long suffix of the line x"));
}

TEST(LiteralMatcher, CasedAndWindash) {
  auto cased = Sigma("  sel:\n    message|contains|cased: 'Root'\n");
  EXPECT_TRUE(Fires(cased, "user Root"));
  EXPECT_FALSE(Fires(cased, "user root"));
  auto windash = Sigma("  sel:\n    message|windash|contains: ' -enc '\n");
  EXPECT_TRUE(Fires(windash, "powershell /enc abc"));
  EXPECT_TRUE(Fires(windash,
                    "powershell \xe2\x80\x93"
                    "ENC abc"));  // en dash, upper case
  EXPECT_FALSE(Fires(windash, "powershell +enc abc"));
}

TEST(LiteralMatcher, ComplexPatternsThroughAtomsAndWithout) {
  auto wild = Sigma("  sel:\n    message|contains: 'wget*chmod'\n");
  EXPECT_TRUE(Fires(wild, "WGET http://x; chmod +x a"));
  EXPECT_FALSE(Fires(wild, "chmod +x a; wget http://x"));
  auto no_atoms = Sigma("  sel:\n    message|re: '^[0-9]{3}$'\n");
  EXPECT_TRUE(Fires(no_atoms, "123"));
  EXPECT_FALSE(Fires(no_atoms, "1234"));
  // A non-ASCII letter with case variants: RE2 folds it, so the pattern stays a regex.
  auto unicode = Sigma(
      "  sel:\n    message|contains: '\xc3\x89"
      "CHEC'\n");
  EXPECT_TRUE(Fires(unicode,
                    "\xc3\xa9"
                    "chec de connexion"));
  EXPECT_FALSE(Fires(unicode, "echec de connexion"));
}

// Alerts and the number of RE2 runs of the field matchers for one message.
std::pair<bool, std::uint64_t> FiresAndRegexRuns(const std::shared_ptr<const RuleSet>& rules,
                                                 const std::string& message) {
  Engine e(rules);
  std::vector<Alert> alerts;
  e.Process(testing::Syslog("app", message, 0, 1, {}), &alerts);
  return {!alerts.empty(), e.engine_stats().regex_runs};
}

TEST(LiteralMatcher, RegexAtomsBeyondAscii) {
  // Caseless non-ASCII atoms (CJK) are keys of the scanner: the regex runs only when one is seen.
  auto cjk = Sigma(
      "  sel:\n    message|re: "
      "'(?i)(?:\u500b\u4eba\u756a\u53f7|\u30de\u30a4\u30ca\u30f3\u30d0\u30fc)"
      "\\D{0,4}\\d{4}'\n");
  EXPECT_TRUE(Fires(cjk, "\u7167\u4f1a \u500b\u4eba\u756a\u53f7: 1234"));
  EXPECT_TRUE(Fires(cjk, "\u30de\u30a4\u30ca\u30f3\u30d0\u30fc 9876"));
  EXPECT_FALSE(Fires(cjk, "\u7167\u4f1a \u756a\u53f7: 1234"));
  EXPECT_EQ(FiresAndRegexRuns(cjk, "\u7167\u4f1a \u756a\u53f7: 1234"),
            std::make_pair(false, std::uint64_t{0}));  // no atom seen: the regex did not run
  EXPECT_EQ(FiresAndRegexRuns(cjk, "\u500b\u4eba\u756a\u53f7 1234"),
            std::make_pair(true, std::uint64_t{1}));
  // An atom with a non-ASCII letter that has case variants: the ASCII-folding scanner could miss
  // the other case, so the regex runs on every value and RE2's Unicode folding decides.
  auto cased = Sigma("  sel:\n    message|re: '(?i)\u00c9CHEC \\d+'\n");
  EXPECT_TRUE(Fires(cased, "\u00e9chec 12"));
  EXPECT_TRUE(Fires(cased, "\u00c9CHEC 12"));
  EXPECT_FALSE(Fires(cased, "echec 12"));
  EXPECT_EQ(FiresAndRegexRuns(cased, "nothing here"), std::make_pair(false, std::uint64_t{1}));
}

TEST(LiteralMatcher, NativeExactCaseInsensitive) {
  auto r = Load(R"(
id: admin
title: Admin
severity: low
match: {user.name: {eq: [Admin, root], icase: true}, app: app}
)");
  ASSERT_TRUE(r.ok()) << r.Format();
  EXPECT_TRUE(Fires(r.rules, "m", {{"user.name", "ADMIN"}}));
  EXPECT_TRUE(Fires(r.rules, "m", {{"user.name", "Root"}}));
  EXPECT_FALSE(Fires(r.rules, "m", {{"user.name", "administrator"}}));
}

TEST(SigmaFieldCandidates, DefaultMappingTriesSpacedAndUserDataNames) {
  SigmaMapping m = SigmaMapping::Default();
  // The XML-to-JSON layout first (its spaced and UserData variants), then Winlogbeat, Wazuh
  // (camelCase) and NXLog (flat).
  EXPECT_EQ(m.MapFieldCandidates("windows", "SourceName"),
            (std::vector<std::string>{"Event.EventData.SourceName", "Event.EventData.Source Name",
                                      "Event.UserData.*.SourceName", "winlog.event_data.SourceName",
                                      "win.eventdata.sourceName", "SourceName"}));
  // Image: Sysmon's key in every layout, then the parser's process.executable (Security 4688's
  // NewProcessName).
  EXPECT_EQ(m.MapFieldCandidates("windows", "Image").back(), "process.executable");
  // System fields: the nested key, then the parser's normalized one (every layout has it).
  EXPECT_EQ(m.MapFieldCandidates("windows", "EventID"),
            (std::vector<std::string>{"Event.System.EventID", "event.code"}));
  EXPECT_EQ(m.KeyCandidates("windows", "Event.System.Channel"),
            (std::vector<std::string>{"Event.System.Channel", "winlog.channel"}));
  EXPECT_EQ(m.KeyCandidates("linux", "app"), (std::vector<std::string>{"app"}));
  EXPECT_EQ(m.MapField("windows", "Image"), "Event.EventData.Image");
  // Linux: the name as it is, then auditd's key (the parser keeps a record's keys as auditd.*).
  EXPECT_EQ(m.MapFieldCandidates("linux", "Image"),
            (std::vector<std::string>{"Image", "auditd.Image"}));
  auto bad = SigmaMapping::FromYaml("products:\n  p:\n    key_alternatives: {a: b}\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("key_alternatives.a"), std::string::npos)
      << bad.status().message();
  auto custom = SigmaMapping::FromYaml("products:\n  p:\n    fields: {User: [user.name, usr]}\n");
  ASSERT_TRUE(custom.ok()) << custom.status().message();
  EXPECT_EQ(custom.value().MapFieldCandidates("p", "User"),
            (std::vector<std::string>{"user.name", "usr"}));
}

// Sigma's auditd rules name the record's keys; the auditd parser keeps them as auditd.<key>.
TEST(SigmaFieldCandidates, AuditdRulesReadTheParsersKeys) {
  auto r = Load(R"(
title: Binary padding
id: a1
logsource: {product: linux, service: auditd}
level: high
detection:
  sel:
    type: EXECVE
    a0: dd
  keywords:
    - 'if='
  condition: sel and keywords
)");
  ASSERT_TRUE(r.ok()) << r.Format();
  auto fires = [&](const std::string& type, const std::string& a0) {
    Record rec;
    rec.event.format = "auditd";
    rec.event.message = "type=" + type + " msg=audit(1604996384.965:93777): argc=2 a0=\"" + a0 +
                        "\" a1=\"if=/dev/zero\"";
    rec.event.fields = {{"auditd.type", type},
                        {"auditd.argc", "2"},
                        {"auditd.a0", a0},
                        {"auditd.a1", "if=/dev/zero"}};
    Engine e(r.rules);
    std::vector<Alert> alerts;
    e.Process(rec, &alerts);
    return !alerts.empty();
  };
  EXPECT_TRUE(fires("EXECVE", "dd"));
  EXPECT_FALSE(fires("SYSCALL", "dd"));
  EXPECT_FALSE(fires("EXECVE", "cat"));
}

TEST(SigmaFieldCandidates, FirstPresentCandidateWins) {
  auto r = Load(R"(
title: WMI
id: w1
logsource: {product: windows, service: wmi}
level: low
detection:
  sel:
    Operation|contains: cleareventlog
  condition: sel
)");
  ASSERT_TRUE(r.ok()) << r.Format();
  auto event = [](std::vector<Field> extra) {
    Record rec;
    rec.event.format = "json";
    rec.event.fields = {{"Event.System.Channel", "Microsoft-Windows-WMI-Activity/Operational"}};
    for (auto& f : extra) rec.event.fields.push_back(f);
    return rec;
  };
  auto fires = [&](const Record& rec) {
    Engine e(r.rules);
    std::vector<Alert> alerts;
    e.Process(rec, &alerts);
    return !alerts.empty();
  };
  EXPECT_TRUE(fires(event({{"Event.UserData.Operation_ClientFailure.Operation",
                            "Win32_NTEventlogFile::ClearEventLog"}})));
  // Event.EventData.Operation is the first candidate: when present, it is the one matched.
  EXPECT_FALSE(fires(event(
      {{"Event.EventData.Operation", "other"}, {"Event.UserData.X.Operation", "cleareventlog"}})));
  EXPECT_FALSE(fires(event({{"Event.UserData.A.B.Operation", "cleareventlog"}})));  // one segment
}

}  // namespace
}  // namespace mamori::rules
