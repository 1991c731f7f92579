#include "body.h"

namespace mamori::parsers::internal {

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ToLower(a[i]) != ToLower(b[i])) return false;
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!Digit(c)) return false;
  }
  return true;
}

bool IsIpv4(std::string_view s) {
  int parts = 0;
  std::size_t i = 0;
  while (parts < 4) {
    std::size_t j = i;
    int v = 0;
    while (j < s.size() && Digit(s[j]) && j - i < 3) v = v * 10 + (s[j++] - '0');
    if (j == i || v > 255) return false;
    ++parts;
    if (parts == 4) return j == s.size();
    if (j >= s.size() || s[j] != '.') return false;
    i = j + 1;
  }
  return false;
}

bool IsIp(std::string_view s) {
  if (IsIpv4(s)) return true;
  if (s.size() < 2 || s.size() > 45) return false;
  int colons = 0;
  for (char c : s) {
    if (c == ':') {
      ++colons;
    } else if (!(Digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '.')) {
      return false;
    }
  }
  return colons >= 2;
}

std::string_view Between(std::string_view s, std::string_view open, char close, bool* found) {
  *found = false;
  std::size_t a = s.find(open);
  if (a == std::string_view::npos) return {};
  a += open.size();
  std::size_t b = s.find(close, a);
  if (b == std::string_view::npos) return {};
  *found = true;
  return s.substr(a, b - a);
}

std::string_view WordAfter(std::string_view s, std::string_view token) {
  std::size_t a = s.find(token);
  if (a == std::string_view::npos) return {};
  a += token.size();
  std::size_t b = s.find(' ', a);
  return s.substr(a, (b == std::string_view::npos ? s.size() : b) - a);
}

bool SplitHostPort(std::string_view s, std::string_view* ip, std::string_view* port) {
  *port = {};
  std::size_t p = s.find_last_of("/(");
  if (p == std::string_view::npos && IsIpv4(s.substr(0, s.find(':')))) p = s.find(':');
  if (p == std::string_view::npos) {
    *ip = s;
    return IsIp(s);
  }
  *ip = s.substr(0, p);
  std::string_view rest = s.substr(p + 1);
  if (!rest.empty() && rest.back() == ')') rest.remove_suffix(1);
  if (AllDigits(rest)) *port = rest;
  return IsIp(*ip);
}

std::string ProtoName(std::string_view p) {
  if (p == "6") return "tcp";
  if (p == "17") return "udp";
  if (p == "1") return "icmp";
  if (p == "58") return "ipv6-icmp";
  if (p == "47") return "gre";
  if (p == "50") return "esp";
  std::string out(p);
  for (char& c : out) c = ToLower(c);
  return out;
}

std::string_view BaseName(std::string_view path) {
  std::size_t p = path.find_last_of("/\\");
  return p == std::string_view::npos ? path : path.substr(p + 1);
}

void SetAction(Event* e, std::string_view action, std::string_view outcome) {
  if (!action.empty()) Add(e, "event.action", action);
  if (!outcome.empty()) Add(e, "event.outcome", outcome);
}

}  // namespace mamori::parsers::internal
