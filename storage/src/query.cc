#include "mamori/storage/query.h"

#include <re2/re2.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <set>
#include <string_view>

#include "cursor.h"
#include "mamori/core/time_util.h"

namespace mamori::storage {
namespace {

struct SeverityName {
  std::string_view name;
  int level;
};
constexpr std::array<SeverityName, 14> kSeverityNames = {{
    {"emerg", 0},
    {"emergency", 0},
    {"alert", 1},
    {"crit", 2},
    {"critical", 2},
    {"err", 3},
    {"error", 3},
    {"warning", 4},
    {"warn", 4},
    {"notice", 5},
    {"info", 6},
    {"informational", 6},
    {"debug", 7},
    {"panic", 0},
}};

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::optional<std::uint64_t> ParseUint(std::string_view s) {
  std::uint64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

Result<int> ParseSeverity(std::string_view v) {
  if (auto n = ParseUint(v)) {
    if (*n <= 7) return static_cast<int>(*n);
  } else {
    const std::string lower = Lower(v);
    for (const auto& s : kSeverityNames) {
      if (s.name == lower) return s.level;
    }
  }
  return Status::InvalidArgument(
      "severity: expected 0..7 or a name (emerg, alert, crit, err, "
      "warning, notice, info, debug), got '" +
      std::string(v) + "'");
}

Status BadValue(std::string_view key, const Status& cause) {
  return Status::InvalidArgument(std::string(key) + ": " + cause.message());
}

}  // namespace

Status ValidateQuery(const Query& q) {
  if (q.limit < 1 || q.limit > Query::kMaxLimit) {
    return Status::InvalidArgument("limit: must be 1.." + std::to_string(Query::kMaxLimit) +
                                   ", got " + std::to_string(q.limit));
  }
  if (q.from_ns && q.to_ns && *q.from_ns >= *q.to_ns) {
    return Status::InvalidArgument("from: must be before to");
  }
  if (q.max_severity && (*q.max_severity < 0 || *q.max_severity > 7)) {
    return Status::InvalidArgument("severity: must be 0..7");
  }
  if (!q.pattern.empty()) {
    RE2::Options opts;
    opts.set_log_errors(false);
    RE2 re(q.pattern, opts);
    if (!re.ok()) {
      return Status::InvalidArgument("q: bad regular expression '" + q.pattern +
                                     "': " + re.error());
    }
  }
  if (!q.cursor.empty() && !internal::DecodeCursor(q.cursor)) {
    return Status::InvalidArgument("cursor: not a cursor returned by a previous search");
  }
  return Status::Ok();
}

Result<Query> QueryFromParams(const std::vector<std::pair<std::string, std::string>>& params) {
  Query q;
  std::set<std::string_view> seen;
  for (const auto& [key, value] : params) {
    if (!seen.insert(key).second) {
      return Status::InvalidArgument(key + ": given more than once");
    }
    if (key == "from" || key == "to") {
      auto t = ParseTimeBound(value);
      if (!t.ok()) return BadValue(key, t.status());
      (key == "from" ? q.from_ns : q.to_ns) = *t;
    } else if (key == "host") {
      q.host = value;
    } else if (key == "app") {
      q.app = value;
    } else if (key == "severity") {
      auto s = ParseSeverity(value);
      if (!s.ok()) return s.status();
      q.max_severity = *s;
    } else if (key == "q") {
      q.pattern = value;
    } else if (key == "limit") {
      auto n = ParseUint(value);
      if (!n || *n < 1 || *n > Query::kMaxLimit) {
        return Status::InvalidArgument("limit: expected 1.." + std::to_string(Query::kMaxLimit) +
                                       ", got '" + value + "'");
      }
      q.limit = static_cast<std::size_t>(*n);
    } else if (key == "cursor") {
      q.cursor = value;
    } else {
      return Status::InvalidArgument(
          "unknown parameter '" + key +
          "' (expected from, to, host, app, severity, q, limit, cursor)");
    }
  }
  if (Status s = ValidateQuery(q); !s.ok()) return s;
  return q;
}

}  // namespace mamori::storage
