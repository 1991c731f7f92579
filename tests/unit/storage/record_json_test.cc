#include "mamori/storage/record_json.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace mamori::storage {
namespace {

using testing::kT0;
using testing::MakeRecord;

TEST(RecordJsonTest, AllFields) {
  Record r = MakeRecord(kT0, "web-01", "Failed password for root", 4);
  r.seq = 42;
  r.raw.received_ns = kT0 + 123'000'000;
  r.raw.transport = Transport::kTcp;
  r.raw.listener = "syslog-tcp";
  r.event.time_flags = kTimeYearInferred;
  r.event.procid = "99";
  r.event.fields = {{"user.name", "root"}, {"source.ip", "10.0.0.9"}, {"user.name", "second"}};
  r.event.info_class = InfoClass::kII;
  const nlohmann::json j = RecordToJson(r);
  EXPECT_EQ(j["seq"], 42);
  EXPECT_EQ(j["event_time"], "2025-11-26T23:16:29Z");
  EXPECT_EQ(j["received_at"], "2025-11-26T23:16:29.123Z");
  EXPECT_EQ(j["time_inferred"], true);
  EXPECT_EQ(j["host"], "web-01");
  EXPECT_EQ(j["app"], "sshd");
  EXPECT_EQ(j["procid"], "99");
  EXPECT_EQ(j["msgid"], "");
  EXPECT_EQ(j["facility"], 4);
  EXPECT_EQ(j["severity"], 4);
  EXPECT_EQ(j["format"], "rfc3164");
  EXPECT_EQ(j["message"], "Failed password for root");
  EXPECT_EQ(j["fields"], nlohmann::json({{"user.name", "root"}, {"source.ip", "10.0.0.9"}}));
  EXPECT_EQ(j["info_class"], "II");
  EXPECT_EQ(j["listener"], "syslog-tcp");
  EXPECT_EQ(j["transport"], "tcp");
  EXPECT_EQ(j["peer"], "10.0.0.1:514");
  EXPECT_EQ(j["truncated"], false);
  EXPECT_EQ(j["original_size"], r.raw.bytes.size());
  EXPECT_EQ(j["raw"], r.raw.bytes);
  EXPECT_EQ(j["raw_encoding"], "utf-8");
}

TEST(RecordJsonTest, MissingFacilityAndSeverityAreNull) {
  Record r = MakeRecord(kT0, "h", "m", -1);
  r.event.facility = -1;
  r.raw.flags = kRawTruncated;
  const nlohmann::json j = RecordToJson(r);
  EXPECT_TRUE(j["severity"].is_null());
  EXPECT_TRUE(j["facility"].is_null());
  EXPECT_EQ(j["truncated"], true);
}

TEST(RecordJsonTest, RawWithNulIsUtf8AndRoundTripsThroughDump) {
  Record r = MakeRecord(kT0, "h", "m");
  r.raw.bytes = std::string("a\0b \xe6\x97\xa5", 7);  // NUL and a valid CJK character
  const nlohmann::json j = RecordToJson(r);
  EXPECT_EQ(j["raw_encoding"], "utf-8");
  const std::string text = j.dump();
  EXPECT_NE(text.find("\\u0000"), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(text)["raw"].get<std::string>(), r.raw.bytes);
}

TEST(RecordJsonTest, InvalidUtf8IsBase64InRawAndReplacedElsewhere) {
  Record r = MakeRecord(kT0, "h", "m");
  r.raw.bytes = std::string("\xff\x00\xfe", 3);
  r.event.host = "bad\xc3";
  r.event.message = "x\x80y";
  r.event.fields = {{"k\xff", "v\xfe"}};
  const nlohmann::json j = RecordToJson(r);
  EXPECT_EQ(j["raw_encoding"], "base64");
  EXPECT_EQ(j["raw"], "/wD+");
  EXPECT_EQ(j["host"], "bad\xEF\xBF\xBD");
  EXPECT_EQ(j["message"], "x\xEF\xBF\xBDy");
  EXPECT_EQ(j["fields"]["k\xEF\xBF\xBD"], "v\xEF\xBF\xBD");
  std::string text;
  EXPECT_NO_THROW(text = j.dump());  // default dump throws on invalid UTF-8; ours never has any
  EXPECT_TRUE(IsValidUtf8(text));
}

TEST(Utf8Test, Validity) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("\xe3\x83\x9e\xe3\x83\xa2\xe3\x83\xaa"));  // マモリ
  EXPECT_TRUE(IsValidUtf8("\xf0\x9f\x94\x92"));                      // U+1F512
  EXPECT_FALSE(IsValidUtf8("\xc0\x80"));                             // overlong NUL
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));                         // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));                         // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));                     // > U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xe3\x83"));                             // truncated
  EXPECT_FALSE(IsValidUtf8("\x80"));                                 // stray continuation
  EXPECT_EQ(SanitizeUtf8("a\xe3\x83z"), "a\xEF\xBF\xBD\xEF\xBF\xBDz");
}

TEST(Base64Test, Rfc4648Vectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
}

}  // namespace
}  // namespace mamori::storage
