// Request-target decoding for the HTTP server: percent-decoding and splitting an origin-form
// target ("/path?query") into a decoded path and query parameters. Pure functions, any thread.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mamori/core/status.h"

namespace mamori::api {

// Decodes %XX escapes (hex digits of either case). With `plus_is_space` (query strings,
// application/x-www-form-urlencoded) '+' becomes ' '. A '%' not followed by two hex digits is
// InvalidArgument. The result may hold any byte, including NUL; no UTF-8 check.
Result<std::string> PercentDecode(std::string_view s, bool plus_is_space);

struct Target {
  std::string path;                                         // decoded; '+' stays '+'
  std::vector<std::pair<std::string, std::string>> params;  // decoded, in order
};

// Parses an origin-form request target: it must start with '/'. A fragment ('#...') is ignored.
// Empty query segments ("a=1&&b=2") are skipped; a segment without '=' has an empty value.
// Absolute-form ("http://h/p"), authority-form and "*" are InvalidArgument.
Result<Target> ParseTarget(std::string_view target);

}  // namespace mamori::api
