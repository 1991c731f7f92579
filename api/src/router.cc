#include "router.h"

#include <exception>
#include <new>

#include "mamori/core/log.h"

namespace mamori::api {
namespace {

std::string AllowHeader(const std::map<std::string, Handler>& methods) {
  std::string allow;
  auto append = [&](std::string_view m) {
    if (!allow.empty()) allow += ", ";
    allow += m;
  };
  for (const auto& [method, handler] : methods) append(method);
  if (methods.count("GET") && !methods.count("HEAD")) append("HEAD");
  return allow;
}

}  // namespace

void Router::Add(std::string method, std::string path, Handler handler) {
  routes_[std::move(path)][std::move(method)] = std::move(handler);
}

std::vector<std::string_view> Router::Paths() const {
  std::vector<std::string_view> paths;
  for (const auto& entry : routes_) paths.push_back(entry.first);
  return paths;
}

Router::Outcome Router::Dispatch(const Request& request) const {
  Outcome out;
  auto path_it = routes_.find(request.path);
  if (path_it == routes_.end()) {
    out.route = kUnmatched;
    out.response = JsonError(404, "no such path: " + request.path);
    return out;
  }
  out.route = path_it->first;
  const auto& methods = path_it->second;
  auto it = methods.find(request.method);
  if (it == methods.end() && request.method == "HEAD") {
    it = methods.find("GET");
    out.head = it != methods.end();
  }
  if (it == methods.end()) {
    out.response = JsonError(405, "method " + request.method + " not allowed for " + request.path);
    out.response.headers.emplace_back("Allow", AllowHeader(methods));
    return out;
  }
  try {
    out.response = it->second(request);
  } catch (const std::bad_alloc&) {
    log::Error("api", "handler for " + request.method + " " + request.path + " ran out of memory");
    out.response = JsonError(500, "internal error: out of memory");
  } catch (const std::exception& e) {
    log::Error("api", "handler for " + request.method + " " + request.path + " threw: " + e.what());
    out.response = JsonError(500, "internal error");
  } catch (...) {
    log::Error("api",
               "handler for " + request.method + " " + request.path + " threw a non-exception");
    out.response = JsonError(500, "internal error");
  }
  if (out.response.status < 200 || out.response.status > 599) {
    log::Error("api", "handler for " + request.method + " " + request.path + " returned status " +
                          std::to_string(out.response.status));
    out.response = JsonError(500, "internal error");
  }
  return out;
}

}  // namespace mamori::api
