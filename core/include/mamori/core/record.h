// The two records every module speaks: RawRecord (the evidence, bytes exactly as received) and
// Event (the normalized view a parser derives from it). A Record pairs them on their way from
// the collector to storage and the rule engine.
//
// Thread-safety: plain values. A Record is built on one I/O thread, moved through the pipeline
// queue and then owned by whichever thread popped it; nothing is shared.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mamori {

enum class Transport : std::uint8_t { kUdp = 0, kTcp = 1, kTls = 2, kHttp = 3, kFile = 4 };
std::string_view TransportName(Transport t);

// Information class of the policy (POLICY.md 3.1): I = personal/critical, II = affects
// operations, III = other. Lower number = more sensitive.
enum class InfoClass : std::uint8_t { kI = 1, kII = 2, kIII = 3 };
std::string_view InfoClassName(InfoClass c);  // "I", "II", "III"

// Flags on a RawRecord.
enum RawFlags : std::uint32_t {
  kRawTruncated = 1u << 0,  // longer than the listener's max message size; `bytes` is the prefix
};

// What arrived on the wire, exactly. Framing (the LF or the octet count) is removed; nothing else
// is: no trimming, no charset conversion, no NUL stripping.
struct RawRecord {
  std::string bytes;             // the message as received (a prefix when truncated)
  std::int64_t received_ns = 0;  // wall clock at receipt, ns since the Unix epoch (UTC)
  std::string listener;          // the configured listener name, e.g. "syslog-tcp"
  Transport transport = Transport::kUdp;
  std::string peer;                 // sender address "ip:port" ("[v6]:port" for IPv6)
  std::uint32_t flags = 0;          // RawFlags
  std::uint64_t original_size = 0;  // length on the wire; > bytes.size() only when truncated
};

// Bits of Event::time_flags: how much of event_time was inferred rather than read.
enum TimeFlags : std::uint8_t {
  kTimeFromReceipt = 1u << 0,   // the message had no usable timestamp: event_time = received_ns
  kTimeYearInferred = 1u << 1,  // RFC 3164: no year; the year closest to the receive time
  kTimeZoneInferred = 1u << 2,  // no UTC offset; the listener's configured zone was applied
};

struct Field {
  std::string key;  // dotted name, e.g. "source.ip", "sd.exampleSDID@32473.iut"
  std::string value;
  bool operator==(const Field&) const = default;
};

// The normalized view. Parsers fill it; storage keeps it beside the raw record; rules read it.
struct Event {
  std::int64_t event_time_ns = 0;  // ns since the Unix epoch (UTC)
  std::uint8_t time_flags = 0;     // TimeFlags
  std::string host;
  std::string app;      // syslog APP-NAME / TAG
  std::string procid;   // syslog PROCID / pid in TAG[pid]
  std::string msgid;    // RFC 5424 MSGID
  int facility = -1;    // 0..23, -1 when the message carried none
  int severity = -1;    // 0 (emergency) .. 7 (debug), -1 when none
  std::string message;  // the free-text part
  std::string format;   // parser that produced it: "rfc5424", "rfc3164", "json", "unparsed"...
  std::vector<Field> fields;  // flat, dotted keys; order of extraction
  InfoClass info_class = InfoClass::kIII;

  bool time_inferred() const { return time_flags != 0; }
  // First field with that key, or nullptr.
  const std::string* Get(std::string_view key) const;
  // Replaces the value of an existing key or appends a new field.
  void Set(std::string_view key, std::string_view value);
};

// A raw record and its event, plus the sequence number storage assigned (0 until stored).
struct Record {
  std::uint64_t seq = 0;
  RawRecord raw;
  Event event;
};

// Formats a time as RFC 3339 UTC with nanoseconds trimmed to the significant digits,
// e.g. "2026-11-26T23:16:29.123Z".
std::string FormatRfc3339(std::int64_t unix_ns);

}  // namespace mamori
