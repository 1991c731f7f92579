// Router: exact-path routing of a parsed Request to a Handler, with the 404/405 answers and the
// exception barrier around handlers. Internal to api/.
// Thread-safety: Add before the server starts; Dispatch from any thread afterwards (read-only).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "mamori/api/http_server.h"

namespace mamori::api {

class Router {
 public:
  // The route label of requests that matched no registered path.
  static constexpr std::string_view kUnmatched = "unmatched";

  void Add(std::string method, std::string path, Handler handler);

  struct Outcome {
    Response response;
    std::string_view route;  // the registered path, or kUnmatched; valid as long as the Router
    bool head = false;       // a HEAD request answered by a GET handler: send no body
  };
  // Never throws for a handler's exception (500 instead); may throw std::bad_alloc when even the
  // error response cannot be built.
  Outcome Dispatch(const Request& request) const;

  // Registered paths, for per-route metrics.
  std::vector<std::string_view> Paths() const;

 private:
  // path → method → handler
  std::map<std::string, std::map<std::string, Handler>, std::less<>> routes_;
};

}  // namespace mamori::api
