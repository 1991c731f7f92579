// JSON objects, one per message, flattened into dotted fields (simdjson DOM).
#include "mamori/parsers/json.h"

#include <simdjson.h>

#include <charconv>
#include <cstdint>
#include <string>

#include "text_util.h"

namespace mamori::parsers {
namespace {

namespace dom = simdjson::dom;

// Per-thread scratch: the simdjson parser (its buffers grow to the largest message seen) and a
// padded copy of the input (simdjson reads up to SIMDJSON_PADDING bytes past the end).
struct Scratch {
  dom::parser parser;
  std::string padded;
};

Scratch& ThreadScratch() {
  thread_local Scratch s;
  return s;
}

// Parses `json` into an element; false on any error (including depth beyond simdjson's limit).
bool ParseDom(std::string_view json, dom::element* root) {
  Scratch& s = ThreadScratch();
  s.padded.assign(json);
  s.padded.resize(json.size() + simdjson::SIMDJSON_PADDING, '\0');
  auto r = s.parser.parse(s.padded.data(), json.size(), /*realloc_if_needed=*/false);
  if (r.error()) return false;
  *root = r.value_unsafe();
  return root->is_object();
}

class Flattener {
 public:
  explicit Flattener(std::vector<Field>* out) : out_(out) {}

  // Appends the leaves of `e` under `prefix`. False when too deep or too many fields.
  bool Walk(dom::element e, std::string* prefix, std::size_t depth) {
    if (depth > kMaxJsonDepth) return false;
    switch (e.type()) {
      case dom::element_type::OBJECT: {
        const std::size_t len = prefix->size();
        dom::object obj;
        if (e.get_object().get(obj)) return false;
        for (auto [key, value] : obj) {
          if (len != 0) prefix->push_back('.');
          prefix->append(key);
          bool ok = Walk(value, prefix, depth + 1);
          prefix->resize(len);
          if (!ok) return false;
        }
        return true;
      }
      case dom::element_type::ARRAY: {
        const std::size_t len = prefix->size();
        std::size_t index = 0;
        dom::array arr;
        if (e.get_array().get(arr)) return false;
        for (dom::element value : arr) {
          char buf[24];
          auto [p, ec] = std::to_chars(buf, buf + sizeof buf, index++);
          if (len != 0) prefix->push_back('.');
          prefix->append(buf, p);
          bool ok = Walk(value, prefix, depth + 1);
          prefix->resize(len);
          if (!ok) return false;
        }
        return true;
      }
      case dom::element_type::STRING:
        return Emit(*prefix, std::string_view(e.get_string().value_unsafe()));
      case dom::element_type::INT64:
        return EmitNumber(*prefix, e.get_int64().value_unsafe());
      case dom::element_type::UINT64:
        return EmitNumber(*prefix, e.get_uint64().value_unsafe());
      case dom::element_type::DOUBLE:
        return EmitNumber(*prefix, e.get_double().value_unsafe());
      case dom::element_type::BOOL:
        return Emit(*prefix, e.get_bool().value_unsafe() ? "true" : "false");
      case dom::element_type::NULL_VALUE:
        return true;
    }
    return true;
  }

 private:
  bool Emit(std::string_view key, std::string_view value) {
    if (++count_ > kMaxJsonFields) return false;
    out_->push_back(Field{std::string(key), std::string(value)});
    return true;
  }
  template <typename T>
  bool EmitNumber(std::string_view key, T v) {
    char buf[64];
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
    return Emit(key, std::string_view(buf, static_cast<std::size_t>(p - buf)));
  }

  std::vector<Field>* out_;
  std::size_t count_ = 0;
};

bool Flatten(std::string_view json, std::vector<Field>* out) {
  dom::element root;
  if (!ParseDom(json, &root)) return false;
  const std::size_t before = out->size();
  std::string prefix;
  prefix.reserve(64);
  Flattener f(out);
  if (!f.Walk(root, &prefix, 0)) {
    out->resize(before);
    return false;
  }
  return true;
}

const std::string* First(const Event& e, std::initializer_list<std::string_view> keys) {
  for (std::string_view k : keys) {
    if (const std::string* v = e.Get(k)) return v;
  }
  return nullptr;
}

// Unix time as "SECONDS[.FRACTION]", where the magnitude of the integer part tells the unit:
// below 1e11 seconds, below 1e14 milliseconds, below 1e17 microseconds, else nanoseconds.
// Integer arithmetic only, so that 1700000000123 (ms) is exact.
bool EpochFromText(std::string_view v, std::int64_t* out_ns) {
  std::size_t dot = v.find('.');
  std::string_view whole = v.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view() : v.substr(dot + 1);
  if (whole.empty() || whole.size() > 19 || (dot != std::string_view::npos && frac.empty())) {
    return false;
  }
  std::uint64_t w = 0;
  for (char c : whole) {
    if (!internal::IsDigit(c)) return false;
    w = w * 10 + static_cast<std::uint64_t>(c - '0');
  }
  std::uint64_t unit_ns = w < 100'000'000'000ull           ? 1'000'000'000
                          : w < 100'000'000'000'000ull     ? 1'000'000
                          : w < 100'000'000'000'000'000ull ? 1'000
                                                           : 1;
  if (w > static_cast<std::uint64_t>(INT64_MAX) / unit_ns) return false;
  std::uint64_t ns = w * unit_ns;
  // Fraction digits in units of unit_ns.
  std::uint64_t scale = unit_ns;
  for (char c : frac) {
    if (!internal::IsDigit(c)) return false;
    scale /= 10;
    ns += static_cast<std::uint64_t>(c - '0') * scale;  // digits beyond 1 ns add 0
  }
  if (ns > static_cast<std::uint64_t>(INT64_MAX)) return false;
  *out_ns = static_cast<std::int64_t>(ns);
  return true;
}

// Epoch number (see EpochFromText) or RFC 3339 text.
bool TimeFromJson(std::string_view v, std::int64_t received_ns, const ParseContext& ctx,
                  std::int64_t* out_ns, std::uint8_t* flags) {
  if (v.find_first_not_of("0123456789.") == std::string_view::npos) {
    return EpochFromText(v, out_ns);
  }
  internal::WallTime t;
  std::size_t pos = 0;
  if (!internal::ReadIsoTime(v, &pos, /*strict=*/false, &t) || pos != v.size()) return false;
  return internal::ResolveTime(t, received_ns, ctx, out_ns, flags);
}

}  // namespace

int SeverityFromName(std::string_view name) {
  if (name.size() == 1 && name[0] >= '0' && name[0] <= '7') return name[0] - '0';
  if (name.size() > 16) return -1;
  char buf[16];
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    buf[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  std::string_view n(buf, name.size());
  struct Entry {
    std::string_view name;
    int severity;
  };
  static constexpr Entry kNames[] = {
      {"emerg", 0},    {"emergency", 0}, {"panic", 0}, {"alert", 1},         {"crit", 2},
      {"critical", 2}, {"fatal", 2},     {"err", 3},   {"error", 3},         {"warn", 4},
      {"warning", 4},  {"notice", 5},    {"info", 6},  {"informational", 6}, {"information", 6},
      {"debug", 7},    {"trace", 7}};
  for (const Entry& e : kNames) {
    if (e.name == n) return e.severity;
  }
  return -1;
}

bool AppendJsonFields(std::string_view json, Event* out) { return Flatten(json, &out->fields); }

bool ParseJson(std::string_view msg, std::int64_t received_ns, const ParseContext& ctx,
               Event* out) {
  std::size_t i = 0;
  while (i < msg.size() && (msg[i] == ' ' || msg[i] == '\t')) ++i;
  out->fields.clear();
  if (!Flatten(msg.substr(i), &out->fields)) return false;
  out->format = "json";
  out->facility = -1;
  out->severity = -1;
  out->msgid.clear();
  const Event& e = *out;
  const std::string* v;
  out->host = (v = First(e, {"host", "hostname", "host.name", "host.hostname"})) ? *v : "";
  out->app = (v = First(e, {"app", "program", "process.name", "ident", "appname"})) ? *v : "";
  out->procid = (v = First(e, {"pid", "process.pid"})) ? *v : "";
  out->message = (v = First(e, {"message", "msg", "log"})) ? *v : "";
  if ((v = First(e, {"severity", "level", "log.level"}))) out->severity = SeverityFromName(*v);
  out->event_time_ns = received_ns;
  out->time_flags = kTimeFromReceipt;
  // Windows events as JSON (Event Viewer XML converted, winlogbeat, nxlog) carry the event time
  // in TimeCreated.SystemTime / EventTime / winlog.time_created rather than a top-level key.
  if ((v = First(e, {"@timestamp", "timestamp", "time", "Event.System.TimeCreated.SystemTime",
                     "System.TimeCreated.SystemTime", "TimeCreated.SystemTime",
                     "winlog.time_created", "EventTime", "TimeCreated"}))) {
    std::uint8_t flags = 0;
    std::int64_t ns;
    if (TimeFromJson(*v, received_ns, ctx, &ns, &flags)) {
      out->event_time_ns = ns;
      out->time_flags = flags;
    }
  }
  return true;
}

}  // namespace mamori::parsers
