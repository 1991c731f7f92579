#include "mamori/storage/record_json.h"

#include <cstdint>

namespace mamori::storage {
namespace {

// Length of the well-formed UTF-8 sequence at s[i], or 0 if there is none.
std::size_t Utf8SeqLen(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  std::size_t n;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;  // no overlongs
    if (c == 0xED) hi = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;  // no overlongs
    if (c == 0xF4) hi = 0x8F;  // <= U+10FFFF
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if (b(i + k) < 0x80 || b(i + k) > 0xBF) return 0;
  }
  return n;
}

std::string Clean(std::string_view s) { return IsValidUtf8(s) ? std::string(s) : SanitizeUtf8(s); }

nlohmann::json OrNull(int v) { return v < 0 ? nlohmann::json(nullptr) : nlohmann::json(v); }

}  // namespace

bool IsValidUtf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    // Fast path over ASCII.
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const std::size_t n = Utf8SeqLen(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string SanitizeUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = Utf8SeqLen(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string Base64Encode(std::string_view s) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((s.size() + 2) / 3 * 4);
  std::size_t i = 0;
  const auto b = [&](std::size_t k) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(s[k]));
  };
  for (; i + 3 <= s.size(); i += 3) {
    const std::uint32_t v = (b(i) << 16) | (b(i + 1) << 8) | b(i + 2);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == s.size()) {
    const std::uint32_t v = b(i) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == s.size()) {
    const std::uint32_t v = (b(i) << 16) | (b(i + 1) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

nlohmann::json RecordToJson(const Record& r) {
  const Event& e = r.event;
  const RawRecord& raw = r.raw;
  nlohmann::json fields = nlohmann::json::object();
  for (const Field& f : e.fields) {
    std::string key = Clean(f.key);
    if (!fields.contains(key)) fields[std::move(key)] = Clean(f.value);
  }
  nlohmann::json j = {
      {"seq", r.seq},
      {"received_at", FormatRfc3339(raw.received_ns)},
      {"event_time", FormatRfc3339(e.event_time_ns)},
      {"time_inferred", e.time_inferred()},
      {"host", Clean(e.host)},
      {"app", Clean(e.app)},
      {"procid", Clean(e.procid)},
      {"msgid", Clean(e.msgid)},
      {"facility", OrNull(e.facility)},
      {"severity", OrNull(e.severity)},
      {"format", Clean(e.format)},
      {"message", Clean(e.message)},
      {"fields", std::move(fields)},
      {"info_class", std::string(InfoClassName(e.info_class))},
      {"listener", Clean(raw.listener)},
      {"transport", std::string(TransportName(raw.transport))},
      {"peer", Clean(raw.peer)},
      {"truncated", (raw.flags & kRawTruncated) != 0},
      {"original_size", raw.original_size},
  };
  if (IsValidUtf8(raw.bytes)) {
    j["raw"] = raw.bytes;
    j["raw_encoding"] = "utf-8";
  } else {
    j["raw"] = Base64Encode(raw.bytes);
    j["raw_encoding"] = "base64";
  }
  return j;
}

}  // namespace mamori::storage
