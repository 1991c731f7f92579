#include "access.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <cstdint>

#include "detection.h"
#include "mamori/auth/peer.h"
#include "mamori/core/log.h"

namespace mamori::app {

using auth::Role;

const std::vector<RoutePolicy>& RouteTable() {
  // THE list of routes. A route the daemon registers must be here (startup fails otherwise),
  // with the weakest role that may call it. Keep docs/security.md's table in step.
  static const std::vector<RoutePolicy> kTable = [] {
    std::vector<RoutePolicy> t = {
        {"GET", "/healthz", Role::kViewer, false},
        {"GET", "/metrics", Role::kViewer, false},
        {"GET", "/api/v1/incidents", Role::kViewer, false},
        {"GET", "/api/v1/incident", Role::kViewer, false},
        // Class I events are withheld below investigator (Daemon::Impl::Events).
        {"GET", "/api/v1/events", Role::kAnalyst, true},
        {"GET", "/api/v1/verify", Role::kInvestigator, true},
        {"GET", "/api/v1/evidence/export", Role::kInvestigator, true},
        {"POST", "/api/v1/rules/reload", Role::kAdmin, true},
    };
    for (const char* action : Detection::kIncidentActions) {
      t.push_back({"POST", std::string("/api/v1/incident/") + action, Role::kAnalyst, true});
    }
    return t;
  }();
  return kTable;
}

ApiGuard::ApiGuard(const HttpConfig& config, auth::TokenSet& tokens, auth::AuditLog& audit,
                   const Clock& clock, prometheus::Registry& registry)
    : config_(config),
      tokens_(tokens),
      audit_(audit),
      clock_(clock),
      limiter_(auth::FailureLimit{config.auth_failure_limit, config.auth_failure_window_ms,
                                  config.auth_lockout_ms, 10'000},
               clock) {
  auto& fam = prometheus::BuildCounter()
                  .Name("mamori_api_auth_failures_total")
                  .Help(
                      "API requests refused: 401 (reason missing, malformed, unknown, revoked "
                      "token) or 403 (forbidden: role too weak)")
                  .Register(registry);
  for (auth::AuthFailure f :
       {auth::AuthFailure::kMissing, auth::AuthFailure::kMalformed, auth::AuthFailure::kUnknown,
        auth::AuthFailure::kRevoked, auth::AuthFailure::kForbidden}) {
    failures_[static_cast<int>(f)] = &fam.Add({{"reason", std::string(auth::AuthFailureName(f))}});
  }
  lockouts_ = &prometheus::BuildCounter()
                   .Name("mamori_api_auth_lockouts_total")
                   .Help(
                       "Client addresses locked out after http.auth_failure_limit failed "
                       "authentications within http.auth_failure_window")
                   .Register(registry)
                   .Add({});
  lockout_refusals_ = &prometheus::BuildCounter()
                           .Name("mamori_api_auth_lockout_refusals_total")
                           .Help(
                               "API requests refused with 429 because their client address "
                               "was locked out (the token was not looked at)")
                           .Register(registry)
                           .Add({});
  lockout_evictions_ =
      &prometheus::BuildCounter()
           .Name("mamori_api_auth_lockout_evictions_total")
           .Help(
               "Client addresses dropped from the failed-authentication table "
               "because it was full (10,000 addresses); a locked-out one only when "
               "all are locked out")
           .Register(registry)
           .Add({});
  locked_out_ = &prometheus::BuildGauge()
                     .Name("mamori_api_auth_locked_out_addresses")
                     .Help("Client addresses locked out now")
                     .Register(registry)
                     .Add({});
}

void ApiGuard::Route(api::HttpServer& server, const std::string& method, const std::string& path,
                     GuardedHandler handler) {
  const auto& table = RouteTable();
  auto it = std::find_if(table.begin(), table.end(), [&](const RoutePolicy& p) {
    return p.method == method && p.path == path;
  });
  if (it == table.end()) {
    unknown_.push_back(method + " " + path);
    return;
  }
  registered_.push_back(method + " " + path);
  const RoutePolicy* policy = &*it;  // the table is static
  server.Route(method, path, [this, policy, h = std::move(handler)](const api::Request& req) {
    return Handle(*policy, h, req);
  });
}

Status ApiGuard::CheckComplete() const {
  if (!unknown_.empty()) {
    return Status::Internal("route " + unknown_.front() +
                            " has no role: add it to RouteTable() in app/src/access.cc");
  }
  for (const auto& p : RouteTable()) {
    if (std::find(registered_.begin(), registered_.end(), p.method + " " + p.path) ==
        registered_.end()) {
      return Status::Internal("route " + p.method + " " + p.path +
                              " is in RouteTable() but was not registered");
    }
  }
  return Status::Ok();
}

api::Response ApiGuard::Handle(const RoutePolicy& policy, const GuardedHandler& handler,
                               const api::Request& req) {
  CallContext ctx;
  const bool open = std::find(config_.open_on_loopback.begin(), config_.open_on_loopback.end(),
                              policy.path) != config_.open_on_loopback.end() &&
                    auth::IsLoopbackPeer(req.peer);
  const bool limited = config_.auth_failure_limit > 0;
  if (limited) locked_out_->Set(static_cast<double>(limiter_.LockedOut()));
  if (!open) {
    const std::string_view address = auth::PeerAddress(req.peer);
    if (limited) {
      if (std::int64_t retry_ms = limiter_.RetryAfterMs(address); retry_ms > 0) {
        return LockedOut(policy, req, retry_ms);
      }
    }
    auth::AuthFailure f = tokens_.Authenticate(req.header("Authorization"), &ctx.who);
    if (f != auth::AuthFailure::kNone) {
      if (limited) {
        std::uint64_t evicted = 0;
        if (limiter_.RecordFailure(address, &evicted)) {
          lockouts_->Increment();
          locked_out_->Set(static_cast<double>(limiter_.LockedOut()));
          log::Warn("api", "client address " + std::string(address) + " locked out for " +
                               std::to_string(config_.auth_lockout_ms / 1000) + " s after " +
                               std::to_string(config_.auth_failure_limit) +
                               " failed authentications");
        }
        if (evicted > 0) lockout_evictions_->Increment(static_cast<double>(evicted));
      }
      return Refuse(policy, req, f, ctx);
    }
    if (limited) limiter_.RecordSuccess(address);
    ctx.authenticated = true;
    if (!auth::RoleAllows(ctx.who.role, policy.role)) {
      return Refuse(policy, req, auth::AuthFailure::kForbidden, ctx);
    }
  }
  api::Response resp = handler(req, ctx);
  if (policy.audited && !Audit(req, ctx, resp.status)) {
    // No record of who saw what: nothing is shown (the change of an incident, if any, stays).
    return api::JsonError(500, "the audit trail could not be written; see the daemon's log");
  }
  return resp;
}

api::Response ApiGuard::Refuse(const RoutePolicy& policy, const api::Request& req,
                               auth::AuthFailure f, const CallContext& ctx) {
  failures_[static_cast<int>(f)]->Increment();
  const bool forbidden = f == auth::AuthFailure::kForbidden;
  const int status = forbidden ? 403 : 401;
  if (policy.audited) (void)Audit(req, ctx, status);
  if (forbidden) {
    return api::JsonError(403, "role " + std::string(auth::RoleName(ctx.who.role)) + " may not " +
                                   policy.method + " " + policy.path + " (needs " +
                                   std::string(auth::RoleName(policy.role)) + ")");
  }
  api::Response resp = api::JsonError(
      401, f == auth::AuthFailure::kMissing
               ? std::string("authentication required: Authorization: Bearer <token>")
               : "invalid token (" + std::string(auth::AuthFailureName(f)) + ")");
  resp.headers.emplace_back("WWW-Authenticate",
                            f == auth::AuthFailure::kMissing
                                ? std::string("Bearer realm=\"mamori\"")
                                : std::string("Bearer realm=\"mamori\", error=\"invalid_token\""));
  return resp;
}

api::Response ApiGuard::LockedOut(const RoutePolicy& policy, const api::Request& req,
                                  std::int64_t retry_after_ms) {
  lockout_refusals_->Increment();
  if (policy.audited) (void)Audit(req, CallContext{}, 429);
  const std::int64_t seconds = (retry_after_ms + 999) / 1000;
  api::Response resp =
      api::JsonError(429, "too many failed authentications from this address; retry after " +
                              std::to_string(seconds) + " s");
  resp.headers.emplace_back("Retry-After", std::to_string(seconds));
  return resp;
}

bool ApiGuard::Audit(const api::Request& req, const CallContext& ctx, int status) {
  auth::AuditEntry e;
  e.time_ns = clock_.NowNs();
  e.actor = ctx.authenticated ? ctx.who.name : "";
  e.role = ctx.authenticated ? std::string(auth::RoleName(ctx.who.role)) : "";
  e.peer = req.peer;
  e.method = req.method;
  e.path = req.path;
  e.params = req.params;
  e.status = status;
  e.returned = ctx.returned;
  e.withheld = ctx.withheld;
  auto seq = audit_.Append(std::move(e));
  if (!seq.ok()) {
    log::Error("audit", "cannot append: " + seq.status().ToString());
    return false;
  }
  return true;
}

}  // namespace mamori::app
