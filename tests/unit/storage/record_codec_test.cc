#include "record_codec.h"

#include <gtest/gtest.h>

#include "cursor.h"
#include "keys.h"
#include "test_util.h"

namespace mamori::storage::internal {
namespace {

Record FullRecord() {
  Record r = storage::testing::MakeRecord(-5, "host\xff", "msg");
  r.raw.bytes = std::string("a\0b\xff\xfe", 5);
  r.raw.transport = Transport::kTls;
  r.raw.flags = kRawTruncated;
  r.raw.original_size = 123456789;
  r.event.time_flags = kTimeYearInferred | kTimeZoneInferred;
  r.event.facility = -1;
  r.event.severity = 7;
  r.event.procid = "42";
  r.event.msgid = "ID47";
  r.event.info_class = InfoClass::kI;
  r.event.fields = {{"source.ip", "10.1.2.3"}, {"user.name", std::string("r\0ot", 4)}};
  return r;
}

void ExpectSame(const Record& a, const Record& b) {
  EXPECT_EQ(a.raw.bytes, b.raw.bytes);
  EXPECT_EQ(a.raw.received_ns, b.raw.received_ns);
  EXPECT_EQ(a.raw.listener, b.raw.listener);
  EXPECT_EQ(a.raw.transport, b.raw.transport);
  EXPECT_EQ(a.raw.peer, b.raw.peer);
  EXPECT_EQ(a.raw.flags, b.raw.flags);
  EXPECT_EQ(a.raw.original_size, b.raw.original_size);
  EXPECT_EQ(a.event.event_time_ns, b.event.event_time_ns);
  EXPECT_EQ(a.event.time_flags, b.event.time_flags);
  EXPECT_EQ(a.event.host, b.event.host);
  EXPECT_EQ(a.event.app, b.event.app);
  EXPECT_EQ(a.event.procid, b.event.procid);
  EXPECT_EQ(a.event.msgid, b.event.msgid);
  EXPECT_EQ(a.event.facility, b.event.facility);
  EXPECT_EQ(a.event.severity, b.event.severity);
  EXPECT_EQ(a.event.message, b.event.message);
  EXPECT_EQ(a.event.format, b.event.format);
  EXPECT_EQ(a.event.fields, b.event.fields);
  EXPECT_EQ(a.event.info_class, b.event.info_class);
}

TEST(RecordCodecTest, RoundTrip) {
  const Record in = FullRecord();
  std::string enc;
  EncodeRecord(in, &enc);
  EXPECT_EQ(static_cast<std::uint8_t>(enc[0]), kRecordFormatV1);
  Record out;
  ASSERT_TRUE(DecodeRecord(enc, &out).ok());
  ExpectSame(in, out);
}

TEST(RecordCodecTest, EveryTruncationIsCorruptionNotACrash) {
  std::string enc;
  EncodeRecord(FullRecord(), &enc);
  // The encoding ends with the fields; every strict prefix is malformed.
  for (std::size_t n = 0; n < enc.size(); ++n) {
    Record out;
    Status s = DecodeRecord(std::string_view(enc).substr(0, n), &out);
    EXPECT_EQ(s.code(), Status::Code::kCorruption) << "prefix of " << n << " bytes";
  }
}

TEST(RecordCodecTest, MessageThatEndsTheRawBytesIsStoredAsAReference) {
  Record in = FullRecord();
  in.raw.bytes = std::string("<13>host app: the \0message", 26);
  in.event.message = std::string("the \0message", 12);
  std::string ref;
  EncodeRecord(in, &ref);
  Record out;
  ASSERT_TRUE(DecodeRecord(ref, &out).ok());
  ExpectSame(in, out);

  Record inline_msg = in;
  inline_msg.event.message = "the message";  // not the tail of the raw bytes
  std::string enc;
  EncodeRecord(inline_msg, &enc);
  ASSERT_TRUE(DecodeRecord(enc, &out).ok());
  ExpectSame(inline_msg, out);
  EXPECT_EQ(enc.size(), ref.size() + inline_msg.event.message.size());

  for (std::size_t n = 0; n < ref.size(); ++n) {
    EXPECT_EQ(DecodeRecord(std::string_view(ref).substr(0, n), &out).code(),
              Status::Code::kCorruption);
  }
}

TEST(RecordCodecTest, UnknownVersionAndGarbage) {
  std::string enc;
  EncodeRecord(FullRecord(), &enc);
  enc[0] = 2;
  Record out;
  Status s = DecodeRecord(enc, &out);
  EXPECT_EQ(s.code(), Status::Code::kCorruption);
  EXPECT_NE(s.message().find("version 2"), std::string::npos) << s.message();

  // A huge length must not allocate or read out of bounds.
  const std::string huge = std::string("\x01", 1) + std::string(8, '\0') + '\0' + '\0' + '\0' +
                           "\xff\xff\xff\xff\xff\xff\xff\xff\x7f";
  EXPECT_EQ(DecodeRecord(huge, &out).code(), Status::Code::kCorruption);
  // Random bytes: never a crash.
  std::uint32_t x = 12345;
  for (int i = 0; i < 2000; ++i) {
    std::string v(1 + i % 64, '\0');
    v[0] = 1;
    for (std::size_t k = 1; k < v.size(); ++k) {
      x = x * 1103515245 + 12345;
      v[k] = static_cast<char>(x >> 16);
    }
    (void)DecodeRecord(v, &out);
  }
}

TEST(RecordCodecTest, UnknownExtensionsAreSkipped) {
  const Record in = FullRecord();
  std::string enc;
  EncodeRecord(in, &enc);
  enc += std::string("\x07\x03xyz", 5);  // tag 7, 3 bytes (a future hash field, say)
  Record out;
  ASSERT_TRUE(DecodeRecord(enc, &out).ok());
  ExpectSame(in, out);
  enc += std::string("\x08\x05xy", 4);  // truncated extension
  EXPECT_EQ(DecodeRecord(enc, &out).code(), Status::Code::kCorruption);
}

TEST(KeysTest, TimeOrderIsPreservedAcrossTheSign) {
  std::string a, b, c;
  PutTimeSeq(&a, -1, 5);
  PutTimeSeq(&b, 0, 1);
  PutTimeSeq(&c, 0, 2);
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_EQ(UnbiasTime(BiasTime(-123456789)), -123456789);
}

TEST(CursorTest, RoundTripAndRejects) {
  const IndexPos p{-42, 7};
  auto d = DecodeCursor(EncodeCursor(p));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->time_ns, -42);
  EXPECT_EQ(d->seq, 7u);
  EXPECT_FALSE(DecodeCursor("").has_value());
  EXPECT_FALSE(DecodeCursor("c1xyz").has_value());
  EXPECT_FALSE(DecodeCursor(EncodeCursor({0, 0})).has_value());  // seq 0 never exists
}

}  // namespace
}  // namespace mamori::storage::internal
