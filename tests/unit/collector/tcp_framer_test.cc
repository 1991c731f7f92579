#include "mamori/collector/tcp_framer.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace mamori::collector {
namespace {

using std::string_literals::operator""s;

std::vector<std::string> Bytes(const std::vector<Frame>& frames) {
  std::vector<std::string> out;
  for (const Frame& f : frames) out.push_back(f.bytes);
  return out;
}

// Feeds `stream` in pieces of `chunk` bytes (0 = all at once), then Finish().
std::vector<Frame> FrameAll(std::string_view stream, std::size_t max, std::size_t chunk = 0) {
  TcpFramer framer(max);
  std::vector<Frame> out;
  if (chunk == 0) chunk = stream.size() + 1;
  for (std::size_t i = 0; i < stream.size(); i += chunk) {
    framer.Feed(stream.substr(i, chunk), &out);
  }
  framer.Finish(&out);
  return out;
}

TEST(TcpFramerTest, LfDelimitedKeepsCrAndNul) {
  const std::string stream = "<13>a\n<13>b\r\n<13>c\0d\n"s;
  auto frames = FrameAll(stream, 1024);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].bytes, "<13>a");
  EXPECT_EQ(frames[1].bytes, "<13>b\r");
  EXPECT_EQ(frames[2].bytes, std::string("<13>c\0d", 7));
  EXPECT_EQ(frames[2].original_size, 7u);
  EXPECT_FALSE(frames[2].truncated);
}

TEST(TcpFramerTest, EmptyLinesYieldNothing) {
  EXPECT_EQ(Bytes(FrameAll("\n\n<13>a\n\n", 1024)), std::vector<std::string>{"<13>a"});
}

TEST(TcpFramerTest, OctetCounted) {
  auto frames = FrameAll("5 <13>a11 <13>b\nc d e", 1024);
  EXPECT_EQ(Bytes(frames), (std::vector<std::string>{"<13>a", "<13>b\nc d e"}));
}

TEST(TcpFramerTest, MixedFramingPerFrame) {
  const std::string stream = "5 <13>a<13>lf one\n6 <13>bc\n<13>lf two\n3 xyz";
  const std::vector<std::string> want = {"<13>a", "<13>lf one", "<13>bc", "<13>lf two", "xyz"};
  EXPECT_EQ(Bytes(FrameAll(stream, 1024)), want);
}

TEST(TcpFramerTest, EverySplitGivesTheSameFrames) {
  const std::string stream = "5 <13>a<13>lf one\n12 <13>b\n\n\r\n\0x\n<13>z\n10 0123456789"s;
  const auto want = Bytes(FrameAll(stream, 1024));
  ASSERT_EQ(want.size(), 5u);
  for (std::size_t chunk = 1; chunk <= stream.size(); ++chunk) {
    EXPECT_EQ(Bytes(FrameAll(stream, 1024, chunk)), want) << "chunk " << chunk;
  }
  // And two-piece splits at every position.
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    TcpFramer framer(1024);
    std::vector<Frame> out;
    framer.Feed(std::string_view(stream).substr(0, cut), &out);
    framer.Feed(std::string_view(stream).substr(cut), &out);
    framer.Finish(&out);
    EXPECT_EQ(Bytes(out), want) << "cut " << cut;
  }
}

TEST(TcpFramerTest, LfTruncationResyncsAtNextLf) {
  const std::string long_line = "<13>" + std::string(100, 'x');
  for (std::size_t chunk : {0, 1, 7}) {
    auto frames = FrameAll(long_line + "\n<13>next\n", 10, chunk);
    ASSERT_EQ(frames.size(), 2u) << chunk;
    EXPECT_EQ(frames[0].bytes, long_line.substr(0, 10));
    EXPECT_TRUE(frames[0].truncated);
    EXPECT_EQ(frames[0].original_size, long_line.size());
    EXPECT_EQ(frames[1].bytes, "<13>next");
    EXPECT_FALSE(frames[1].truncated);
  }
}

TEST(TcpFramerTest, OctetTruncationSkipsRestOfFrame) {
  const std::string body(50, 'y');
  for (std::size_t chunk : {0, 1, 3}) {
    auto frames = FrameAll("50 " + body + "4 next", 8, chunk);
    ASSERT_EQ(frames.size(), 2u) << chunk;
    EXPECT_EQ(frames[0].bytes, body.substr(0, 8));
    EXPECT_TRUE(frames[0].truncated);
    EXPECT_EQ(frames[0].original_size, 50u);
    EXPECT_EQ(frames[1].bytes, "next");
  }
}

TEST(TcpFramerTest, MessageOfExactlyMaxIsNotTruncated) {
  auto frames = FrameAll("4 abcdefgh\n", 4);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_FALSE(frames[0].truncated);
  EXPECT_FALSE(frames[1].truncated);
  EXPECT_EQ(frames[1].bytes, "efgh");
}

TEST(TcpFramerTest, MalformedOctetCountsAreReadAsLfFrames) {
  for (std::string bad : {"12x <13>a", "12345678901 a", "0 a", "00 a", "5", "2020-03-24 x"}) {
    // Fed whole and byte by byte: the same frames, nothing lost, the stream goes on.
    for (bool bytewise : {false, true}) {
      TcpFramer framer(1024);
      std::vector<Frame> out;
      std::string stream = "<13>ok\n" + bad + "\n3 <1>4 <13>more\n";
      if (bytewise) {
        for (char ch : stream) framer.Feed(std::string_view(&ch, 1), &out);
      } else {
        framer.Feed(stream, &out);
      }
      // "3 <1>" and "4 <13>" are valid octet-counted frames; "more" ends with the LF.
      EXPECT_EQ(Bytes(out), (std::vector<std::string>{"<13>ok", bad, "<1>", "<13>", "more"}))
          << bad;
      EXPECT_EQ(framer.lf_fallbacks(), 1u) << bad;
    }
  }
}

TEST(TcpFramerTest, TenDigitCountIsAccepted) {
  TcpFramer framer(16);
  std::vector<Frame> out;
  framer.Feed("9999999999 " + std::string(100, 'z'), &out);
  EXPECT_EQ(framer.lf_fallbacks(), 0u);
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(framer.has_partial());
}

TEST(TcpFramerTest, FinishDeliversWhatIsBuffered) {
  {
    auto frames = FrameAll("<13>a\n<13>unterminated", 1024);
    EXPECT_EQ(Bytes(frames), (std::vector<std::string>{"<13>a", "<13>unterminated"}));
    EXPECT_FALSE(frames[1].truncated);
  }
  {
    auto frames = FrameAll("10 <13>half", 1024);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].bytes, "<13>half");
    EXPECT_TRUE(frames[0].truncated);
    EXPECT_EQ(frames[0].original_size, 10u);
  }
  EXPECT_EQ(Bytes(FrameAll("<13>a\n123", 1024)), (std::vector<std::string>{"<13>a", "123"}));
  TcpFramer framer(8);
  std::vector<Frame> out;
  EXPECT_FALSE(framer.Finish(&out));
  EXPECT_FALSE(framer.has_partial());
}

TEST(TcpFramerTest, RandomBytesNeverBreakInvariants) {
  std::mt19937 rng(42);
  for (int round = 0; round < 200; ++round) {
    std::string stream(1 + rng() % 4096, '\0');
    for (char& c : stream) {
      // Bias towards framing-relevant bytes.
      const unsigned r = rng() % 8;
      c = r == 0   ? '\n'
          : r == 1 ? static_cast<char>('0' + rng() % 10)
          : r == 2 ? ' '
                   : static_cast<char>(rng());
    }
    TcpFramer framer(64);
    std::vector<Frame> out;
    std::size_t pos = 0;
    while (pos < stream.size()) {
      const std::size_t n = 1 + rng() % 300;
      framer.Feed(std::string_view(stream).substr(pos, n), &out);
      pos += n;
    }
    framer.Finish(&out);
    for (const Frame& f : out) {
      EXPECT_LE(f.bytes.size(), 64u);
      EXPECT_GE(f.original_size, f.bytes.size());
      EXPECT_EQ(f.truncated, f.original_size > f.bytes.size());
    }
  }
}

}  // namespace
}  // namespace mamori::collector
