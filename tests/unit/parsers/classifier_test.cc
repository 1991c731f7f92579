// The information classifier: My Number detection (check digit, look-alikes), masking, rules,
// metrics.
#include "mamori/parsers/classifier.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <string>
#include <vector>

#include "xorshift.h"

namespace mamori::parsers {
namespace {

std::vector<std::string> Found(std::string_view text) {
  std::vector<MyNumberMatch> m;
  FindMyNumbers(text, &m);
  std::vector<std::string> out;
  for (const auto& x : m) out.emplace_back(text.substr(x.pos, x.len));
  return out;
}

// Valid numbers computed by hand with the formula in classifier.h.
TEST(MyNumberTest, CheckDigitFormula) {
  EXPECT_TRUE(IsValidMyNumber("123456789018"));
  EXPECT_TRUE(IsValidMyNumber("987654321093"));
  EXPECT_TRUE(IsValidMyNumber("314159265352"));
  EXPECT_TRUE(IsValidMyNumber("090123456784"));
  EXPECT_TRUE(IsValidMyNumber("000000000000"));  // remainder 0 -> check digit 0
  for (char c = '0'; c <= '9'; ++c) {
    std::string s = std::string("12345678901") + c;
    EXPECT_EQ(IsValidMyNumber(s), c == '8') << s;
  }
  EXPECT_FALSE(IsValidMyNumber("12345678901"));
  EXPECT_FALSE(IsValidMyNumber("1234567890188"));
  EXPECT_FALSE(IsValidMyNumber("12345678901a"));
}

TEST(MyNumberTest, FindsValidNumbersInText) {
  EXPECT_EQ(Found("個人番号123456789018を登録"), std::vector<std::string>{"123456789018"});
  EXPECT_EQ(Found("id=123456789018"), std::vector<std::string>{"123456789018"});
  EXPECT_EQ(Found("\"mynumber\":\"987654321093\""), std::vector<std::string>{"987654321093"});
  EXPECT_EQ(Found("123456789018"), std::vector<std::string>{"123456789018"});
  EXPECT_EQ(Found("a 1234 5678 9018 b"), std::vector<std::string>{"1234 5678 9018"});
  EXPECT_EQ(Found("a 1234-5678-9018."), std::vector<std::string>{"1234-5678-9018"});
  EXPECT_EQ(Found("123456789018 and 987654321093").size(), 2u);
}

TEST(MyNumberTest, IgnoresLookAlikes) {
  EXPECT_TRUE(Found("123456789019").empty());            // wrong check digit
  EXPECT_TRUE(Found("call 090-1234-5678 now").empty());  // mobile phone
  EXPECT_TRUE(Found("tel 0312345678").empty());          // landline
  EXPECT_TRUE(Found("tel 03-1234-5678").empty());
  EXPECT_TRUE(Found("tel +819012345678").empty());         // international phone
  EXPECT_TRUE(Found("at 20261126231629").empty());         // 14-digit timestamp
  EXPECT_TRUE(Found("at 202611262312").empty());           // YYYYMMDDhhmm passes the digit
  EXPECT_TRUE(Found("card 4111111111111111").empty());     // 16 digits
  EXPECT_TRUE(Found("card 4111 1111 1111 1111").empty());  // 4-4-4-4
  EXPECT_TRUE(Found("card 4111-1111-1111-1111").empty());
  EXPECT_TRUE(Found("x1234567890180").empty());  // inside a longer run
  EXPECT_TRUE(Found("0123456789018").empty());
  EXPECT_TRUE(Found("1123456789018").empty());
  EXPECT_TRUE(Found("abc123456789018").empty());  // part of a word/hex id
  EXPECT_TRUE(Found("123456789018abc").empty());
  EXPECT_TRUE(Found("v1.123456789018").empty());  // decimal fraction
  EXPECT_TRUE(Found("123456789018.5").empty());
  EXPECT_TRUE(Found("10.123456789018").empty());
  EXPECT_TRUE(Found("1234 5678 9018 1234").empty());  // longer grouped number
  EXPECT_TRUE(Found("1 1234 5678 9018").empty());
  EXPECT_TRUE(Found("1234 5678-9018").empty());  // mixed separators
  EXPECT_TRUE(Found("").empty());
  // Random 12-digit IDs that fail the check digit: none is flagged.
  int flagged = 0;
  for (long long v = 100000000000LL; v < 100000000000LL + 11 * 1000; v += 11) {
    std::string s = std::to_string(v);
    if (!IsValidMyNumber(s)) flagged += !Found(s).empty();
  }
  EXPECT_EQ(flagged, 0);
}

// Reference for WordScanMatchesByteScan: the scanner as it was before it skipped words, one
// byte at a time, built from the public pieces (IsValidMyNumber) and the rules in classifier.h.
std::vector<MyNumberMatch> ByteScan(std::string_view s) {
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  auto word = [&](char c) {
    return digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  };
  auto joiner = [](char c) {
    return c == '.' || c == ',' || c == '-' || c == '/' || c == ':' || c == '+';
  };
  auto boundary = [&](std::ptrdiff_t i, int step) {
    if (i < 0 || i >= static_cast<std::ptrdiff_t>(s.size())) return true;
    char c = s[i];
    if (word(c)) return false;
    if (joiner(c) || c == ' ') {
      std::ptrdiff_t j = i + step;
      if (j >= 0 && j < static_cast<std::ptrdiff_t>(s.size()) && digit(s[j])) return false;
    }
    return true;
  };
  auto timestamp = [](std::string_view d) {
    auto num = [&](std::size_t p, std::size_t n) {
      int v = 0;
      for (std::size_t i = p; i < p + n; ++i) v = v * 10 + (d[i] - '0');
      return v;
    };
    int y = num(0, 4), mo = num(4, 2), day = num(6, 2), h = num(8, 2), mi = num(10, 2);
    return y >= 1970 && y <= 2099 && mo >= 1 && mo <= 12 && day >= 1 && day <= 31 && h <= 23 &&
           mi <= 59;
  };
  std::vector<MyNumberMatch> out;
  std::size_t i = 0;
  while (i < s.size()) {
    if (!digit(s[i])) {
      ++i;
      continue;
    }
    std::size_t run = i;
    while (run < s.size() && digit(s[run])) ++run;
    std::size_t len = run - i;
    bool left = boundary(static_cast<std::ptrdiff_t>(i) - 1, -1) && (i == 0 || s[i - 1] != '+');
    if (len == 12 && left && boundary(static_cast<std::ptrdiff_t>(run), +1)) {
      std::string_view d = s.substr(i, 12);
      if (IsValidMyNumber(d) && !timestamp(d)) out.push_back({i, 12});
    } else if (len == 4 && left && i + 14 <= s.size()) {
      char sep = s[i + 4];
      std::string d;
      bool ok = (sep == ' ' || sep == '-') && s[i + 9] == sep;
      for (std::size_t j = i; ok && j < i + 14; ++j) {
        if (j == i + 4 || j == i + 9) continue;
        if (!digit(s[j])) ok = false;
        d.push_back(s[j]);
      }
      if (ok && boundary(static_cast<std::ptrdiff_t>(i + 14), +1) && IsValidMyNumber(d)) {
        out.push_back({i, 14});
        i += 14;
        continue;
      }
    }
    i = run;
  }
  return out;
}

// The scanner skips non-digit bytes a word at a time; it must find exactly what a byte-at-a-time
// scan finds, wherever the digits sit relative to 8-byte words and whatever bytes surround them
// ('/' and ':' are the bytes right before '0' and after '9'; non-ASCII bytes included).
TEST(MyNumberTest, WordScanMatchesByteScan) {
  const std::string alphabet =
      std::string("0123456789 -.,/:+_aZ") + '\x80' + '\xff' + '\xb0' + '\xb9' + '\x10' + '\x7f';
  testing::XorShift64 next(88172645463325252ull);
  for (int round = 0; round < 50000; ++round) {
    std::string s;
    const std::size_t len = next() % 2 == 0 ? next() % 48 : next() % 300;  // 64-byte blocks
    const bool sparse = next() % 2 == 0;  // mostly letters: long digit-free stretches
    for (std::size_t i = 0; i < len; ++i) {
      s.push_back(sparse && next() % 8 != 0 ? 'x' : alphabet[next() % alphabet.size()]);
    }
    for (int k = next() % 4; k > 0; --k) {  // plant valid numbers at random offsets
      s.insert(next() % (s.size() + 1), next() % 2 == 0 ? "123456789018" : "1234 5678 9018");
    }
    if (next() % 8 == 0) s.insert(next() % (s.size() + 1), std::string(next() % 150, '7'));
    std::vector<MyNumberMatch> got;
    FindMyNumbers(s, &got);
    const std::vector<MyNumberMatch> want = ByteScan(s);
    ASSERT_EQ(got.size(), want.size()) << s;
    for (std::size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].pos, want[i].pos) << s;
      EXPECT_EQ(got[i].len, want[i].len) << s;
    }
  }
}

TEST(MyNumberTest, MaskKeepsSeparators) {
  std::string s = "a=123456789018 b=1234-5678-9018 c=123456789019";
  EXPECT_EQ(MaskMyNumbers(&s), 2u);
  EXPECT_EQ(s, "a=************ b=****-****-**** c=123456789019");
}

double Value(prometheus::Registry& r, const std::string& name, const std::string& label = "") {
  for (const auto& f : r.Collect()) {
    if (f.name != name) continue;
    for (const auto& m : f.metric) {
      if (label.empty() ? m.label.empty() : (m.label.size() == 1 && m.label[0].value == label)) {
        return m.counter.value;
      }
    }
  }
  return -1;
}

TEST(ClassifierTest, MyNumberMakesClassIAndMasks) {
  prometheus::Registry registry;
  ClassificationConfig cfg;
  cfg.mask_my_number = true;
  auto c = Classifier::Create(cfg, &registry);
  ASSERT_TRUE(c.ok());
  Event e;
  e.message = "applicant 123456789018 registered";
  e.fields.push_back({"user.id", "123456789018"});
  e.fields.push_back({"other", "123456789019"});
  EXPECT_EQ((*c)->Classify(&e), 2u);
  EXPECT_EQ(e.info_class, InfoClass::kI);
  EXPECT_EQ(e.message, "applicant ************ registered");
  EXPECT_EQ(e.fields[0].value, "************");
  EXPECT_EQ(e.fields[1].value, "123456789019");
  EXPECT_EQ(Value(registry, "mamori_classification_my_number_total"), 2);
  EXPECT_EQ(Value(registry, "mamori_events_classified_total", "I"), 1);
  EXPECT_EQ(Value(registry, "mamori_events_classified_total", "III"), 0);

  Event plain;
  plain.message = "nothing here 0312345678";
  EXPECT_EQ((*c)->Classify(&plain), 0u);
  EXPECT_EQ(plain.info_class, InfoClass::kIII);
  EXPECT_EQ(Value(registry, "mamori_events_classified_total", "III"), 1);
}

// A tally counts several Classify calls and publishes them at once (the collector does this per
// read): same classes, masks and metric values as one call at a time.
TEST(ClassifierTest, TallyPublishesWhatClassifyWould) {
  prometheus::Registry registry;
  ClassificationConfig cfg;
  cfg.mask_my_number = true;
  auto c = Classifier::Create(cfg, &registry);
  ASSERT_TRUE(c.ok());
  Classifier::Tally tally;
  Event a, b, d;
  a.message = "applicant 123456789018 registered";
  a.fields.push_back({"user.id", "123456789018"});
  b.message = "nothing here 0312345678";
  d.message = "plain";
  EXPECT_EQ((*c)->Classify(&a, &tally), 2u);
  EXPECT_EQ((*c)->Classify(&b, &tally), 0u);
  EXPECT_EQ((*c)->Classify(&d, &tally), 0u);
  EXPECT_EQ(a.info_class, InfoClass::kI);
  EXPECT_EQ(a.message, "applicant ************ registered");
  EXPECT_EQ(b.info_class, InfoClass::kIII);
  EXPECT_EQ(Value(registry, "mamori_classification_my_number_total"), 0) << "not yet published";
  (*c)->Publish(&tally);
  EXPECT_EQ(Value(registry, "mamori_classification_my_number_total"), 2);
  EXPECT_EQ(Value(registry, "mamori_events_classified_total", "I"), 1);
  EXPECT_EQ(Value(registry, "mamori_events_classified_total", "III"), 2);
  (*c)->Publish(&tally);  // emptied by the first
  EXPECT_EQ(Value(registry, "mamori_events_classified_total", "III"), 2);
}

TEST(ClassifierTest, DetectWithoutMaskLeavesText) {
  ClassificationConfig cfg;
  auto c = Classifier::Create(cfg, nullptr);
  ASSERT_TRUE(c.ok());
  Event e;
  e.message = "123456789018";
  (*c)->Classify(&e);
  EXPECT_EQ(e.info_class, InfoClass::kI);
  EXPECT_EQ(e.message, "123456789018");
  cfg.detect_my_number = false;
  auto off = Classifier::Create(cfg, nullptr);
  Event f;
  f.message = "123456789018";
  EXPECT_EQ((*off)->Classify(&f), 0u);
  EXPECT_EQ(f.info_class, InfoClass::kIII);
}

TEST(ClassifierTest, RulesFirstMatchWins) {
  ClassificationConfig cfg;
  cfg.rules.push_back({"hr", InfoClass::kI, "", "hr-app", "message", ""});
  cfg.rules.push_back({"ops", InfoClass::kII, "", "", "user.name", "^admin"});
  cfg.rules.push_back({"late", InfoClass::kI, "", "", "message", "admin"});
  auto c = Classifier::Create(cfg, nullptr);
  ASSERT_TRUE(c.ok());
  Event a;
  a.app = "hr-app";
  (*c)->Classify(&a);
  EXPECT_EQ(a.info_class, InfoClass::kI);
  Event b;
  b.message = "admin login";
  b.fields.push_back({"user.name", "admin1"});
  (*c)->Classify(&b);
  EXPECT_EQ(b.info_class, InfoClass::kII);  // "ops" matched before "late"
  Event d;
  d.message = "other";
  (*c)->Classify(&d);
  EXPECT_EQ(d.info_class, InfoClass::kIII);
  // A My Number overrides a less sensitive rule class.
  Event m;
  m.message = "admin 123456789018";
  m.fields.push_back({"user.name", "admin"});
  (*c)->Classify(&m);
  EXPECT_EQ(m.info_class, InfoClass::kI);
}

TEST(ClassifierTest, BadPatternNamesTheRule) {
  ClassificationConfig cfg;
  cfg.rules.push_back({"broken", InfoClass::kII, "", "", "message", "(unclosed"});
  auto c = Classifier::Create(cfg, nullptr);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("broken"), std::string::npos);
}

}  // namespace
}  // namespace mamori::parsers
