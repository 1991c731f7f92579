// The information classifier: My Number detection (check digit, look-alikes), masking, rules,
// metrics.
#include "mamori/parsers/classifier.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <string>
#include <vector>

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
