// Parsers: pure functions that turn a RawRecord (bytes as received) into an Event (the
// normalized view). Formats: RFC 5424 syslog, RFC 3164 (BSD) syslog and its real-world variants,
// and JSON objects (one per message), including JSON carried in a syslog message body.
//
//   ParseContext ctx;                  // listener settings: zone for offset-less times, format
//   Event e = Parse(raw, ctx);         // never fails: unknown bytes give format "unparsed"
//
// Detection ("auto"): looks at the first bytes only. '<' PRI followed by "1 " -> rfc5424;
// '{' -> json; otherwise rfc3164 if the message has a PRI or a recognizable timestamp; otherwise
// unparsed. A pinned format runs only that parser (and gives "unparsed" when it fails).
// See parsers/README.md for the fields each parser fills and the time inference rules.
//
// Thread-safety: every function here may be called from any thread at the same time. Parse has
// no I/O and no observable state; the JSON parser keeps a per-thread scratch buffer (reused
// memory, never data) so that the hot path does not allocate it per message.
// Memory: bounded by the message size (a few times the input at most; JSON fields are capped).
// Ownership: Parse copies what it needs out of `raw`; the Event owns all its strings. `raw` is
// never modified.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <array>
#include <string_view>
#include <vector>

#include "mamori/core/record.h"

namespace mamori::parsers {

struct ParseContext {
  // Minutes east of UTC applied to timestamps that carry no UTC offset (RFC 3164 "Mmm dd
  // hh:mm:ss", RFC 3339 without offset). The listener's `utc_offset_minutes`. Default: 0 (UTC).
  int utc_offset_minutes = 0;
  // "auto" detects the format per message; otherwise one of FormatNames() except "unparsed"
  // pins the parser. The view must outlive the Parse call. Default: "auto".
  std::string_view format = "auto";
};

// Parses one message. Never throws, never fails: always returns an Event whose `format` is the
// parser that produced it ("rfc5424", "rfc3164", "json"), or "unparsed" when none understood
// the bytes; then message = the bytes as text, host/app empty, facility/severity -1 and
// event_time_ns = raw.received_ns with kTimeFromReceipt. info_class is left at kIII.
Event Parse(const RawRecord& raw, const ParseContext& ctx);
// The same, into *out, which must be a default-constructed Event (a Record just made): the
// collector's hot path parses into the record instead of moving a returned Event into it.
void Parse(const RawRecord& raw, const ParseContext& ctx, Event* out);

// Every value Parse can put in Event::format, "unparsed" included (to pre-create metric labels).
const std::vector<std::string_view>& FormatNames();

// Whether `name` may be used as ParseContext::format: "auto" or a parser name ("rfc5424",
// "rfc3164", "json"). "unparsed" is not a parser and is rejected.
bool IsKnownFormat(std::string_view name);

// Prometheus counters for parse outcomes:
//   mamori_events_parsed_total{format="rfc5424"|"rfc3164"|"json"|"unparsed"}
//   mamori_events_unparsed_total
// Families and series are created in the constructor; Count() only increments.
// Thread-safety: Count() may be called from any thread (prometheus counters are atomic).
// Ownership: the registry must outlive this object.
class ParseStats {
 public:
  explicit ParseStats(prometheus::Registry& registry);
  ParseStats(const ParseStats&) = delete;
  ParseStats& operator=(const ParseStats&) = delete;

  // Counts one parsed event under its format. An unknown format counts as "unparsed".
  void Count(const Event& event);

  static constexpr std::size_t kMaxFormats = 32;
  // Counts of several events, published at once (one update per format per read on the
  // collector's I/O threads instead of one per event).
  struct Tally {
    std::array<std::uint64_t, kMaxFormats> parsed{};  // index = FormatNames() position
    std::uint64_t unknown = 0;                        // formats not in FormatNames()
  };
  // Count, into *tally instead of the metrics.
  void Count(const Event& event, Tally* tally) const;
  // Adds *tally to the metrics and zeroes it.
  void Publish(Tally* tally);

 private:
  std::array<prometheus::Counter*, kMaxFormats> parsed_{};  // index = FormatNames() position
  std::size_t num_formats_ = 0;
  std::size_t unparsed_index_ = kMaxFormats;  // position of "unparsed" (kMaxFormats: none)
  prometheus::Counter* unparsed_ = nullptr;
};

}  // namespace mamori::parsers
