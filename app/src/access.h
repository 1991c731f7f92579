// Access control for the daemon's HTTP API (docs/security.md): the route table (every route
// and the role it needs, and whether calls are audited), and ApiGuard, which wraps each handler
// with authentication (bearer token), authorization (role) and the audit trail.
//
// The table is the single list of routes: ApiGuard::Route refuses a (method, path) that is not
// in it, and ApiGuard::CheckComplete (called before the server starts) fails startup when a
// route of the table was not registered. So a new route without a role cannot be served, and
// `mamori token roles` (which prints the table) lists exactly what the daemon serves; the
// integration test test_auth.py walks that list.
//
// Before the token is looked at, a client address locked out by too many failed
// authentications (HttpConfig::auth_failure_limit, auth::AuthFailureLimiter) gets 429 with
// Retry-After; routes served open on loopback are not limited (they check no token).
//
// Threads: the wrapped handlers run on I/O threads concurrently; TokenSet, AuditLog and the
// AuthFailureLimiter are thread-safe. Route/CheckComplete run before the server starts, on the
// starting thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "mamori/api/http_server.h"
#include "mamori/auth/audit.h"
#include "mamori/auth/failure_limiter.h"
#include "mamori/auth/token_store.h"
#include "mamori/core/clock.h"
#include "mamori/core/config.h"

namespace prometheus {
class Counter;
class Gauge;
class Registry;
}  // namespace prometheus

namespace mamori::app {

struct RoutePolicy {
  std::string method;  // "GET" (also answers HEAD) or "POST"
  std::string path;
  auth::Role role;  // the weakest role allowed
  bool audited;     // every call, and every refused attempt, goes to the audit trail
};

// Every route of `mamori serve`, in the order of docs/security.md's table.
const std::vector<RoutePolicy>& RouteTable();

// What a guarded handler sees besides the request, and what it reports for the audit record.
struct CallContext {
  auth::Identity who;  // empty name when served unauthenticated (open on loopback)
  bool authenticated = false;
  std::int64_t returned = 0;  // records returned (or 1 for a change)
  std::int64_t withheld = 0;  // records matched but withheld from this role
};
using GuardedHandler = std::function<api::Response(const api::Request&, CallContext&)>;

class ApiGuard {
 public:
  // All references must outlive the guard and every handler it made (the daemon owns them).
  // Registers mamori_api_auth_failures_total{reason}, mamori_api_auth_lockouts_total,
  // mamori_api_auth_lockout_refusals_total, mamori_api_auth_locked_out_addresses and
  // mamori_api_auth_lockout_evictions_total.
  ApiGuard(const HttpConfig& config, auth::TokenSet& tokens, auth::AuditLog& audit,
           const Clock& clock, prometheus::Registry& registry);

  // Registers `handler` for (method, path) on `server`, wrapped. A route missing from
  // RouteTable() is not registered and makes CheckComplete fail.
  void Route(api::HttpServer& server, const std::string& method, const std::string& path,
             GuardedHandler handler);
  // InvalidArgument naming the first route registered without a policy, or a policy whose
  // route was never registered.
  Status CheckComplete() const;

 private:
  api::Response Handle(const RoutePolicy& policy, const GuardedHandler& handler,
                       const api::Request& req);
  api::Response Refuse(const RoutePolicy& policy, const api::Request& req, auth::AuthFailure f,
                       const CallContext& ctx);
  // 429 to a locked-out address (counted, audited like a 401).
  api::Response LockedOut(const RoutePolicy& policy, const api::Request& req,
                          std::int64_t retry_after_ms);
  // Appends the audit record; false when it could not be stored.
  bool Audit(const api::Request& req, const CallContext& ctx, int status);

  const HttpConfig& config_;
  auth::TokenSet& tokens_;
  auth::AuditLog& audit_;
  const Clock& clock_;
  std::vector<std::string> unknown_;       // routes registered without a policy
  std::vector<std::string> registered_;    // "METHOD path"
  prometheus::Counter* failures_[6] = {};  // by auth::AuthFailure
  auth::AuthFailureLimiter limiter_;
  prometheus::Counter* lockouts_ = nullptr;
  prometheus::Counter* lockout_refusals_ = nullptr;
  prometheus::Counter* lockout_evictions_ = nullptr;
  prometheus::Gauge* locked_out_ = nullptr;
};

}  // namespace mamori::app
