// The parts of the API contract that need no Beast: Request accessors, JsonError and the
// /metrics handler.
#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <nlohmann/json.hpp>

#include "mamori/api/http_server.h"

namespace mamori::api {
namespace {

bool AsciiIEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace

std::string Request::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (AsciiIEquals(k, name)) return v;
  }
  return {};
}

std::string Request::param(std::string_view name) const {
  for (const auto& [k, v] : params) {
    if (k == name) return v;
  }
  return {};
}

bool Request::has_param(std::string_view name) const {
  for (const auto& p : params) {
    if (p.first == name) return true;
  }
  return false;
}

Response JsonError(int status, std::string_view message) {
  nlohmann::json j;
  j["error"]["code"] = status;
  j["error"]["message"] = std::string(message);
  Response r;
  r.status = status;
  r.body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

Handler MetricsHandler(std::vector<std::weak_ptr<prometheus::Collectable>> collectables) {
  return [collectables = std::move(collectables)](const Request&) {
    std::vector<prometheus::MetricFamily> families;
    for (const auto& weak : collectables) {
      if (auto c = weak.lock()) {
        auto more = c->Collect();
        families.insert(families.end(), std::make_move_iterator(more.begin()),
                        std::make_move_iterator(more.end()));
      }
    }
    Response r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = prometheus::TextSerializer().Serialize(families);
    return r;
  };
}

}  // namespace mamori::api
