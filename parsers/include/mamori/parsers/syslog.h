// The syslog parsers behind Parse(): RFC 5424 and RFC 3164 (BSD syslog, with the variants real
// senders produce). Exposed for direct tests and for callers that already know the format.
//
// Each function parses `msg` into `*out` and returns true when the bytes are that format; on
// false, `*out` may hold partial results and must be discarded. They set every Event member they
// own (format, times, host, app, procid, msgid, facility, severity, message, fields) and leave
// info_class alone.
// Thread-safety: pure functions, any thread. REQUIRES: out != nullptr.
#pragma once

#include <cstdint>
#include <string_view>

#include "mamori/core/record.h"
#include "mamori/parsers/parser.h"

namespace mamori::parsers {

// "<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [MSG]".
// Returns false only when the PRI or the version "1" is missing; a truncated or malformed
// remainder gives a best-effort event (a bad timestamp -> kTimeFromReceipt). NILVALUE ('-')
// gives empty members. SD params become fields "sd.<SD-ID>.<PARAM-NAME>" with \" \\ \] decoded.
// A leading UTF-8 BOM is removed from the message. A body that is a JSON object (optionally
// after "@cee:") also fills fields (see json.h); the message keeps the body text.
bool ParseRfc5424(std::string_view msg, std::int64_t received_ns, const ParseContext& ctx,
                  Event* out);

// "[<PRI>][TIMESTAMP ][HOSTNAME ][TAG[[PID]][:] ]MSG".
// TIMESTAMP: "Mmm dd hh:mm:ss" (month in any case, day space- or zero-padded, optional
// fraction, optional year before or after the time, optional trailing ':'), or RFC 3339 with or
// without offset. Returns false when there is neither a PRI nor a timestamp (then the bytes are
// not recognizably syslog). Missing year: the one of (received year -1, 0, +1) closest to
// received_ns (kTimeYearInferred). Missing offset: ctx.utc_offset_minutes (kTimeZoneInferred).
// Missing timestamp: received_ns (kTimeFromReceipt). A missing PRI leaves facility/severity -1.
bool ParseRfc3164(std::string_view msg, std::int64_t received_ns, const ParseContext& ctx,
                  Event* out);

}  // namespace mamori::parsers
