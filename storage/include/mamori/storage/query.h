// Query and SearchPage: what a search over the evidence store asks for and gets back, and
// QueryFromParams, the one parser of search parameters shared by `mamori search` and
// GET /api/v1/events, so the CLI and the API accept exactly the same keys and values.
//
// Thread-safety: plain values; QueryFromParams is a pure function, safe on any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mamori/core/record.h"
#include "mamori/core/status.h"

namespace mamori::storage {

// Records are returned newest first (by event time, then by sequence number).
struct Query {
  // Inclusive lower bound on the event time, ns since the epoch. Default: none.
  std::optional<std::int64_t> from_ns;
  // Exclusive upper bound on the event time, ns since the epoch. Default: none.
  std::optional<std::int64_t> to_ns;
  // Exact match on Event::host when non-empty (uses the host index). Default: "" (any).
  std::string host;
  // Exact match on Event::app when non-empty. Default: "" (any).
  std::string app;
  // Keep events with 0 <= severity <= max_severity (0 emergency .. 7 debug). Events without a
  // severity (-1) are excluded when set. Default: none (all severities, and none).
  std::optional<int> max_severity;
  // RE2 pattern searched (unanchored) in Event::message. Default: "" (no pattern).
  std::string pattern;
  // Records per page, 1..kMaxLimit. Default: 100.
  std::size_t limit = 100;
  // Opaque position from SearchPage::next_cursor; the page starts strictly after it.
  // Default: "" (start at the newest record).
  std::string cursor;

  static constexpr std::size_t kMaxLimit = 10000;
};

struct SearchPage {
  std::vector<Record> records;  // newest first
  // Non-empty when there may be more: pass it back as Query::cursor (with the same filters)
  // to continue. A page may hold fewer than `limit` records (even none) and still carry a
  // cursor when the per-query scan budget ran out. Empty = the search is complete.
  std::string next_cursor;
};

// Builds a Query from request parameters (key, value). Keys:
//   from, to   time bounds (core ParseTimeBound: RFC 3339, a date, or Unix seconds)
//   host, app  exact match
//   severity   maximum severity: a name ("emerg", "alert", "crit", "err", "warning", "notice",
//              "info", "debug", and the long forms "emergency", "critical", "error", "warn",
//              "informational") or a number 0..7
//   q          RE2 pattern over the message (validated here)
//   limit      1..10000
//   cursor     from SearchPage::next_cursor
// Unknown keys, repeated keys and bad values are InvalidArgument naming the key.
Result<Query> QueryFromParams(const std::vector<std::pair<std::string, std::string>>& params);

// Checks a Query built by hand: limit range, from < to, the pattern compiles, the cursor decodes.
Status ValidateQuery(const Query& q);

}  // namespace mamori::storage
