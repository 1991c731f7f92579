#include "mamori/api/target.h"

namespace mamori::api {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Result<std::string> PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else if (c != '%') {
      out.push_back(c);
    } else {
      int hi = i + 1 < s.size() ? HexValue(s[i + 1]) : -1;
      int lo = i + 2 < s.size() ? HexValue(s[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return Status::InvalidArgument("bad percent-encoding at offset " + std::to_string(i));
      }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    }
  }
  return out;
}

Result<Target> ParseTarget(std::string_view target) {
  if (auto hash = target.find('#'); hash != std::string_view::npos) target = target.substr(0, hash);
  if (target.empty() || target.front() != '/') {
    return Status::InvalidArgument("request target must start with '/'");
  }
  Target t;
  std::string_view raw_path = target;
  std::string_view query;
  if (auto q = target.find('?'); q != std::string_view::npos) {
    raw_path = target.substr(0, q);
    query = target.substr(q + 1);
  }
  auto path = PercentDecode(raw_path, /*plus_is_space=*/false);
  if (!path.ok()) return Status::InvalidArgument("path: " + path.status().message());
  t.path = std::move(path).value();
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view segment = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (segment.empty()) continue;
    auto eq = segment.find('=');
    std::string_view raw_key = segment.substr(0, eq);
    std::string_view raw_value =
        eq == std::string_view::npos ? std::string_view() : segment.substr(eq + 1);
    auto key = PercentDecode(raw_key, /*plus_is_space=*/true);
    auto value = PercentDecode(raw_value, /*plus_is_space=*/true);
    if (!key.ok() || !value.ok()) {
      return Status::InvalidArgument("query parameter '" + std::string(raw_key) +
                                     "': " + (key.ok() ? value : key).status().message());
    }
    t.params.emplace_back(std::move(key).value(), std::move(value).value());
  }
  return t;
}

}  // namespace mamori::api
