// TcpFramer: splits a TCP syslog byte stream into messages (RFC 6587).
//
// The framing is recognised per frame, at each frame boundary:
//   - a frame that starts with a digit is octet-counted: "MSG-LEN SP MSG", MSG-LEN being 1 to 10
//     decimal digits (value 1..9999999999);
//   - any other frame is LF-delimited: the message runs up to the next LF (0x0A). Only the LF is
//     framing: a CR before it stays in the message, and a NUL is an ordinary byte.
// An empty LF-delimited frame (a lone LF, e.g. the trailer some senders put after an
// octet-counted frame) yields no message.
//
// A message longer than max_message_bytes is cut to that size and flagged `truncated`, with
// `original_size` its full length on the wire; the framer skips the rest of that frame (the
// remaining octets, or everything up to the next LF) and stays in sync. A frame that starts with
// digits but has no valid octet count (a non-digit before the SP, more than 10 digits, or 0 —
// e.g. "2026-11-26 10:00:00 host ..." from a sender that writes bare lines) is read as an
// LF-delimited frame from its first byte, as rsyslog does, and counted in lf_fallbacks(): no
// byte is lost and the connection stays open.
//
// Memory is bounded by max_message_bytes (plus the caller's output). Frames split across Feed
// calls, down to one byte per call, come out the same as from a single call.
//
// Thread-safety: none; one framer per connection, used by one strand.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mamori::collector {

struct Frame {
  std::string bytes;                // the message, framing removed (a prefix when truncated)
  std::uint64_t original_size = 0;  // length of the message on the wire
  bool truncated = false;           // bytes.size() < original_size
};

class TcpFramer {
 public:
  // REQUIRES: max_message_bytes > 0.
  explicit TcpFramer(std::size_t max_message_bytes);

  // Consumes `data`, appending every frame it completes to *out (in stream order).
  void Feed(std::string_view data, std::vector<Frame>* out);

  // End of stream. If a frame is in progress, appends it and returns true: an LF-delimited
  // message as read so far; an octet-counted message flagged truncated (its original_size is the
  // announced MSG-LEN); a bare octet count ("123" with no SP yet) as an ordinary message.
  bool Finish(std::vector<Frame>* out);

  // True when bytes of an unfinished frame are buffered or being skipped.
  bool has_partial() const { return state_ != State::kFrameStart; }
  // Frames that started with digits but carried no valid octet count (read as LF-delimited).
  std::uint64_t lf_fallbacks() const { return lf_fallbacks_; }
  std::size_t max_message_bytes() const { return max_; }

 private:
  enum class State { kFrameStart, kOctetCount, kOctetBody, kLfBody };

  std::size_t FeedOctetCount(std::string_view data);
  std::size_t FeedOctetBody(std::string_view data, std::vector<Frame>* out);
  std::size_t FeedLfBody(std::string_view data, std::vector<Frame>* out);
  void Append(std::string_view data);  // appends up to max_, counts everything in original_size
  void Emit(std::vector<Frame>* out);
  std::size_t FallBackToLf();  // returns the bytes it consumed (none)

  const std::size_t max_;
  State state_ = State::kFrameStart;
  std::string current_;                 // the message being assembled (at most max_ bytes)
  std::uint64_t current_size_ = 0;      // bytes of the current message seen so far
  std::string count_digits_;            // kOctetCount: digits read so far (at most 10)
  std::uint64_t octets_remaining_ = 0;  // kOctetBody: bytes of the message still to come
  std::uint64_t octet_length_ = 0;      // kOctetBody: the announced MSG-LEN
  std::uint64_t lf_fallbacks_ = 0;
};

}  // namespace mamori::collector
