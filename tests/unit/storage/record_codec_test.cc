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
  EXPECT_EQ(static_cast<std::uint8_t>(enc[0]), kRecordFormatV2);
  Record out;
  ASSERT_TRUE(DecodeRecord(enc, &out).ok());
  ExpectSame(in, out);
}

// A syslog line as the collector stores it: host, app and procid are in the raw bytes.
Record SyslogRecord() {
  Record r = storage::testing::MakeRecord(7, "bench-hdfs-2", "");
  r.raw.bytes =
      "<155>Nov 27 04:26:03 bench-hdfs-2 HDFS[1016]: PacketResponder 2 for block "
      "blk_69184 terminating user=alice src=10.0.0.7";
  r.raw.listener = "syslog-tcp";
  r.raw.peer = "127.0.0.1:35698";
  r.event.app = "HDFS";
  r.event.procid = "1016";
  r.event.format = "rfc3164";
  r.event.message = r.raw.bytes.substr(46);
  r.event.fields = {{"user", "alice"}, {"src", "10.0.0.7"}, {"x", "not in raw"}};
  return r;
}

TEST(RecordCodecTest, Version2ReferencesTheRawBytesAndIsSmaller) {
  const Record in = SyslogRecord();
  std::string v1, v2;
  EncodeRecordV1(in, &v1);
  EncodeRecord(in, &v2);
  EXPECT_EQ(static_cast<std::uint8_t>(v1[0]), kRecordFormatV1);
  EXPECT_EQ(static_cast<std::uint8_t>(v2[0]), kRecordFormatV2);
  // host (12), app (4), procid (4), "user", "alice", "src", "10.0.0.7" become 2-byte references;
  // the format a 1-byte code.
  EXPECT_LE(v2.size() + 35, v1.size()) << v1.size() << " vs " << v2.size();
  Record out1, out2;
  ASSERT_TRUE(DecodeRecord(v1, &out1).ok());
  ASSERT_TRUE(DecodeRecord(v2, &out2).ok());
  ExpectSame(in, out1);
  ExpectSame(in, out2);
}

TEST(RecordCodecTest, Version1ValuesStillDecode) {
  for (Record in : {FullRecord(), SyslogRecord()}) {
    in.event.format = "some-future-parser";  // not in the code table: stored inline in v2
    std::string v1, v2;
    EncodeRecordV1(in, &v1);
    EncodeRecord(in, &v2);
    for (const std::string& enc : {v1, v2}) {
      Record out;
      ASSERT_TRUE(DecodeRecord(enc, &out).ok());
      ExpectSame(in, out);
      for (std::size_t n = 0; n < enc.size(); ++n) {
        EXPECT_EQ(DecodeRecord(std::string_view(enc).substr(0, n), &out).code(),
                  Status::Code::kCorruption)
            << "version " << int(enc[0]) << ", prefix of " << n << " bytes";
      }
    }
  }
}

std::string Hex(std::string_view b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : b) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

// The exact bytes of both versions (FORMAT.md, "Record value"): stored evidence must decode the
// same forever, so an encoder change that alters one byte is caught here, not by a round trip.
TEST(RecordCodecTest, EncodingBytesAreStable) {
  Record syslog = SyslogRecord();
  syslog.event.format = "custom-format";  // not in the code table: stored as a string
  const std::vector<std::pair<Record, std::vector<std::string>>> cases = {
      {FullRecord(),
       {"02e3030000000000000201959aef3a0a7379736c6f672d7564700c31302e302e302e313a35313405"
        "610062fffefbffffffffffffff06010e010a686f7374ff0873736864043432084944343701066d73"
        "670212736f757263652e69701031302e312e322e3312757365722e6e616d650872006f74",
        "01e3030000000000000201959aef3a0a7379736c6f672d7564700c31302e302e302e313a35313405"
        "610062fffefbffffffffffffff06010e0105686f7374ff0473736864023432044944343707726663"
        "33313634066d73670209736f757263652e69700831302e312e322e3309757365722e6e616d650472"
        "006f74"}},
      {SyslogRecord(),
       {"02ef030000000000000000170a7379736c6f672d7463700f3132372e302e302e313a333536393877"
        "3c3135353e4e6f762032372030343a32363a30332062656e63682d686466732d3220484446535b31"
        "3031365d3a205061636b6574526573706f6e646572203220666f7220626c6f636b20626c6b5f3639"
        "313834207465726d696e6174696e6720757365723d616c696365207372633d31302e302e302e3707"
        "0000000000000000080c032b0c45044f040001930103c10104cb0105d70103df01080278146e6f74"
        "20696e20726177",
        "01ef030000000000000000170a7379736c6f672d7463700f3132372e302e302e313a333536393877"
        "3c3135353e4e6f762032372030343a32363a30332062656e63682d686466732d3220484446535b31"
        "3031365d3a205061636b6574526573706f6e646572203220666f7220626c6f636b20626c6b5f3639"
        "313834207465726d696e6174696e6720757365723d616c696365207372633d31302e302e302e3707"
        "0000000000000000080c030c62656e63682d686466732d3204484446530431303136000772666333"
        "313634930103047573657205616c696365037372630831302e302e302e3701780a6e6f7420696e20"
        "726177"}},
      {syslog,
       {"02ef030000000000000000170a7379736c6f672d7463700f3132372e302e302e313a333536393877"
        "3c3135353e4e6f762032372030343a32363a30332062656e63682d686466732d3220484446535b31"
        "3031365d3a205061636b6574526573706f6e646572203220666f7220626c6f636b20626c6b5f3639"
        "313834207465726d696e6174696e6720757365723d616c696365207372633d31302e302e302e3707"
        "0000000000000000080c032b0c45044f0400000d637573746f6d2d666f726d6174930103c10104cb"
        "0105d70103df01080278146e6f7420696e20726177",
        "01ef030000000000000000170a7379736c6f672d7463700f3132372e302e302e313a333536393877"
        "3c3135353e4e6f762032372030343a32363a30332062656e63682d686466732d3220484446535b31"
        "3031365d3a205061636b6574526573706f6e646572203220666f7220626c6f636b20626c6b5f3639"
        "313834207465726d696e6174696e6720757365723d616c696365207372633d31302e302e302e3707"
        "0000000000000000080c030c62656e63682d686466732d3204484446530431303136000d63757374"
        "6f6d2d666f726d6174930103047573657205616c696365037372630831302e302e302e3701780a6e"
        "6f7420696e20726177"}},
  };
  for (const auto& [r, want] : cases) {
    std::string v2, v1;
    EncodeRecord(r, &v2);
    EncodeRecordV1(r, &v1);
    EXPECT_EQ(Hex(v2), want[0]);
    EXPECT_EQ(Hex(v1), want[1]);
  }
}

TEST(RecordCodecTest, Version2StringsThatRepeatOrOverlapAndEveryFormatCode) {
  Record in = SyslogRecord();
  in.event.host = "alice";  // occurs after the app: found by the second search from the start
  in.event.msgid = "";
  in.event.fields = {{"user", "alice"}, {"user", "alice"}, {"a", "b"}, {"", ""}};
  for (std::string_view f : kFormatCodes) {
    in.event.format = std::string(f);
    std::string enc;
    EncodeRecord(in, &enc);
    Record out;
    ASSERT_TRUE(DecodeRecord(enc, &out).ok());
    ExpectSame(in, out);
  }
}

TEST(RecordCodecTest, Version2ReferenceOutsideTheRawBytesOrUnknownCodeIsCorruption) {
  Record in = SyslogRecord();
  in.event.fields.clear();
  std::string enc;
  EncodeRecord(in, &enc);
  const std::size_t raw_end = enc.find(in.raw.bytes) + in.raw.bytes.size();
  // The host "bench-hdfs-2" is at offset 21 of the raw bytes: varint (21 << 1) | 1, length 12.
  const std::size_t host_at = enc.find("\x2b\x0c", raw_end);
  ASSERT_NE(host_at, std::string::npos);
  for (std::size_t len : {in.raw.bytes.size() - 20, in.raw.bytes.size(), std::size_t{127}}) {
    std::string bad = enc;
    bad[host_at + 1] = static_cast<char>(len);  // 21 + len runs past the raw bytes
    Record out;
    EXPECT_EQ(DecodeRecord(bad, &out).code(), Status::Code::kCorruption) << len;
  }

  // Empty host, app, procid, msgid: four 0 bytes after event time (8), time flags, facility,
  // severity and class (1 each), then the format code (1: rfc3164).
  in.event.host.clear();
  in.event.app.clear();
  in.event.procid.clear();
  EncodeRecord(in, &(enc = std::string()));
  const std::size_t code_at = raw_end + 8 + 4 + 4;
  ASSERT_EQ(enc.substr(code_at - 4, 5), std::string("\0\0\0\0\x01", 5));
  for (char code : {'\x19', '\x7f'}) {  // 25 = one past the table; 127
    std::string bad = enc;
    bad[code_at] = code;
    Record out;
    Status s = DecodeRecord(bad, &out);
    EXPECT_EQ(s.code(), Status::Code::kCorruption);
    EXPECT_NE(s.message().find("unknown format code"), std::string::npos) << s.message();
  }
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
  enc[0] = 3;
  Record out;
  Status s = DecodeRecord(enc, &out);
  EXPECT_EQ(s.code(), Status::Code::kCorruption);
  EXPECT_NE(s.message().find("version 3"), std::string::npos) << s.message();

  // A huge length must not allocate or read out of bounds.
  const std::string huge = std::string("\x01", 1) + std::string(8, '\0') + '\0' + '\0' + '\0' +
                           "\xff\xff\xff\xff\xff\xff\xff\xff\x7f";
  EXPECT_EQ(DecodeRecord(huge, &out).code(), Status::Code::kCorruption);
  // Random bytes: never a crash.
  std::uint32_t x = 12345;
  for (int i = 0; i < 2000; ++i) {
    std::string v(1 + i % 64, '\0');
    v[0] = static_cast<char>(1 + i % 2);  // versions 1 and 2
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

// Record groups (FORMAT.md, "Record groups").
std::string Encoded(const std::string& msg) {
  Record r = storage::testing::MakeRecord(7, "h", msg);
  std::string v;
  EncodeRecord(r, &v);
  return v;
}

std::vector<std::pair<std::uint64_t, std::string>> Split(std::uint64_t key, std::string_view v) {
  std::vector<GroupItem> items;
  Status s = SplitRecords(key, v, &items);
  EXPECT_TRUE(s.ok()) << s.ToString();
  std::vector<std::pair<std::uint64_t, std::string>> out;
  for (const auto& i : items) out.emplace_back(i.seq, std::string(i.value));
  return out;
}

TEST(RecordGroupTest, GroupRoundTripsAndSingleRecordIsAPlainValue) {
  GroupBuilder b;
  b.Clear(100);
  b.Add(100, Encoded("a"));
  EXPECT_TRUE(b.header().empty());
  EXPECT_EQ(b.Value(), Encoded("a"));  // one record: its own value, readable by old versions
  EXPECT_EQ(Split(100, b.Value()),
            (std::vector<std::pair<std::uint64_t, std::string>>{{100, Encoded("a")}}));

  b.Add(101, Encoded("bb"));
  b.Add(105, "");  // an empty item is framing-valid (DecodeRecord rejects it later)
  const std::string v = b.Value();
  EXPECT_EQ(static_cast<std::uint8_t>(v[0]), kRecordGroupV3);
  EXPECT_EQ(std::string(b.header()) + std::string(b.items()), v);
  EXPECT_EQ(Split(100, v), (std::vector<std::pair<std::uint64_t, std::string>>{
                               {100, Encoded("a")}, {101, Encoded("bb")}, {105, ""}}));
  Record r;
  std::vector<GroupItem> items;
  ASSERT_TRUE(SplitRecords(100, v, &items).ok());
  ASSERT_TRUE(DecodeRecord(items[1].value, &r).ok());
  EXPECT_EQ(r.event.message, "bb");

  // A group whose key is below its first record (the rest after a disposal) keeps the framing.
  GroupBuilder c;
  c.Clear(10);
  c.Add(12, Encoded("x"));
  EXPECT_FALSE(c.header().empty());
  EXPECT_EQ(Split(10, c.Value()),
            (std::vector<std::pair<std::uint64_t, std::string>>{{12, Encoded("x")}}));
}

TEST(RecordGroupTest, DropRecordsKeepsTheRest) {
  GroupBuilder b;
  b.Clear(1);
  for (std::uint64_t s = 1; s <= 5; ++s) b.Add(s, Encoded("m" + std::to_string(s)));
  const std::string v = b.Value();
  auto rest = DropRecords(1, v, {1, 3});
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(Split(1, *rest), (std::vector<std::pair<std::uint64_t, std::string>>{
                                 {2, Encoded("m2")}, {4, Encoded("m4")}, {5, Encoded("m5")}}));
  auto none = DropRecords(1, v, {1, 2, 3, 4, 5});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  auto same = DropRecords(1, v, {9});
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(Split(1, *same).size(), 5u);
  // The last record left, at the key: a plain value again.
  auto one = DropRecords(1, v, {2, 3, 4, 5});
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(*one, Encoded("m1"));
  // A plain value goes whole or stays.
  EXPECT_TRUE(DropRecords(7, Encoded("p"), {7})->empty());
  EXPECT_EQ(*DropRecords(7, Encoded("p"), {8}), Encoded("p"));
  // A damaged group is an error, not a guess.
  EXPECT_FALSE(DropRecords(1, v.substr(0, v.size() - 1), {2}).ok());
}

TEST(RecordGroupTest, MalformedGroupsAreCorruptionNeverACrash) {
  GroupBuilder b;
  b.Clear(50);
  b.Add(50, Encoded("a"));
  b.Add(51, Encoded("b"));
  const std::string good = b.Value();
  const std::string g(1, static_cast<char>(kRecordGroupV3));
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"no count", g},
      {"count 0", g + std::string(1, '\0')},
      {"count larger than the value", g + "\x7f"},
      {"truncated count", g + "\x80"},
      {"truncated item", good.substr(0, good.size() - 1)},
      {"length past the end", g + std::string("\x01\x00\x7f", 3) + "ab"},
      {"trailing bytes", good + "x"},
      {"zero delta after the first", g + std::string("\x02\x00\x01\x02\x00\x01\x02", 7)},
      {"seq overflow", g + std::string("\x02\x00\x01\x02", 4) +
                           std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10) +
                           std::string("\x01\x02", 2)},
  };
  for (const auto& [what, v] : bad) {
    std::vector<GroupItem> items;
    Status s = SplitRecords(50, v, &items);
    EXPECT_EQ(s.code(), Status::Code::kCorruption) << what;
    EXPECT_TRUE(items.empty()) << what;
  }
  // Every truncation of a valid group is either a valid group or Corruption.
  for (std::size_t n = 0; n <= good.size(); ++n) {
    std::vector<GroupItem> items;
    Status s = SplitRecords(50, good.substr(0, n), &items);
    if (n == good.size()) {
      EXPECT_TRUE(s.ok());
    } else if (n == 0) {
      EXPECT_TRUE(s.ok());  // an empty value is a plain (undecodable) record
    } else {
      EXPECT_FALSE(s.ok()) << n;
    }
  }
}

}  // namespace
}  // namespace mamori::storage::internal
