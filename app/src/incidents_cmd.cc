// `mamori incidents`: lists and shows incidents, and works them (acknowledge, start, resolve,
// close, reopen, assign, note).
//
// Only the daemon writes the incident database. So changes always go through the daemon's HTTP
// API (--server, default http://127.0.0.1:8514); list and show read either the API (--server) or
// the database offline (--data-dir, a read-only secondary instance: safe while the daemon runs).
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>  // before Asio: Boost 1.74 + GCC 12 + C++20

#include "commands.h"
#include "flags.h"
#include "mamori/incidents/incident_store.h"

namespace mamori::app {
namespace {

constexpr const char* kIncidentsUsage =
    R"(usage: mamori incidents [list] [--status S] [--severity S] [--rule ID] [--limit N] [--before ID]
       mamori incidents show ID
       mamori incidents ack|start|resolve|close|reopen ID [--text COMMENT]
       mamori incidents assign ID --owner NAME
       mamori incidents note ID --text TEXT
     each with [--server URL [--token TOKEN] | --data-dir DIR]

list and show print JSON (list: one incident per line, newest first; when more match than
--limit, "next: ID" is printed on stderr: pass it as --before). The fields are described in
docs/incidents.md.

With --data-dir, list and show read the daemon's data directory offline (read-only; safe while
the daemon runs). Everything else goes through the daemon's HTTP API at --server (default
http://127.0.0.1:8514): the daemon is the only writer of incidents. --data-dir with a change is
an error. The API needs a bearer token (docs/security.md): --token, or the environment variable
MAMORI_TOKEN (better: not visible in the process list). Changes need the role analyst; the
incident timeline records the token's name as the actor.

flags:
  --server URL   the daemon's HTTP API, http://HOST:PORT (default http://127.0.0.1:8514)
  --data-dir DIR read offline (list, show)
  --token TOKEN  the API bearer token (default: $MAMORI_TOKEN)
  --status S     new, acknowledged, in_progress, resolved, closed or reopened
  --severity S   info, low, medium, high or critical
  --rule ID      a rule id
  --limit N      at most N incidents (default 100, at most 1000)
  --before ID    only incidents with a smaller id (the next page)
  --owner NAME   assign: the new owner ("" to unassign)
  --text T       note: the note; state changes: an optional comment

exit status: 0 done, 1 refused or failed (e.g. an invalid transition: the daemon's message is
printed), 2 usage.
)";

constexpr const char* kDefaultServer = "http://127.0.0.1:8514";

struct HttpResult {
  int status = 0;
  std::string body;
  std::string error;  // transport failure
};

// One HTTP/1.1 request to http://HOST:PORT (no TLS yet).
HttpResult HttpCall(const std::string& server, const std::string& token, const std::string& method,
                    const std::string& target, const std::string& body) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  HttpResult out;
  std::string rest = server;
  if (rest.rfind("http://", 0) != 0) {
    out.error = "--server: expected http://HOST:PORT, got '" + server + "'";
    return out;
  }
  rest = rest.substr(7);
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  std::string host = rest, port = "80";
  if (auto c = rest.rfind(':'); c != std::string::npos && rest.find(']', c) == std::string::npos) {
    host = rest.substr(0, c);
    port = rest.substr(c + 1);
  }
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  try {
    boost::asio::io_context io;
    boost::asio::ip::tcp::resolver resolver(io);
    beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds(30));
    stream.connect(resolver.resolve(host, port));
    http::request<http::string_body> req{method == "POST" ? http::verb::post : http::verb::get,
                                         target, 11};
    req.set(http::field::host, rest);
    req.set(http::field::user_agent, "mamori-cli");
    if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
    if (method == "POST") {
      req.set(http::field::content_type, "application/json");
      req.body() = body;
    }
    req.prepare_payload();
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    out.status = static_cast<int>(res.result_int());
    out.body = std::move(res.body());
    beast::error_code ec;
    stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
  } catch (const std::exception& e) {
    out.error = server + ": " + e.what();
  }
  return out;
}

std::string UrlEncode(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

void PrintJsonLine(const nlohmann::json& j) {
  std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stdout);
}

// Prints the API's error message (or the transport error); returns kExitFailure.
// --token, else $MAMORI_TOKEN, else "" (the daemon answers 401).
std::string Token(const Flags& flags) {
  if (auto t = flags.Get("token")) return *t;
  const char* env = std::getenv("MAMORI_TOKEN");
  return env == nullptr ? "" : env;
}

int ReportHttpFailure(const HttpResult& r) {
  if (!r.error.empty()) {
    std::fprintf(stderr, "mamori incidents: %s\n", r.error.c_str());
    return kExitFailure;
  }
  std::string msg = r.body;
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].contains("message")) {
    msg = j["error"]["message"].get<std::string>();
  }
  std::fprintf(stderr, "mamori incidents: %d: %s\n", r.status, msg.c_str());
  return kExitFailure;
}

Result<std::unique_ptr<incidents::IncidentStore>> OpenOffline(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return Status::NotFound(dir + ": no such directory");
  }
  incidents::IncidentStoreOptions so;
  so.dir = dir + "/incidents";
  so.read_only = true;
  return incidents::IncidentStore::Open(so);
}

int List(const Flags& flags) {
  std::vector<std::pair<std::string, std::string>> params;
  const std::set<std::string> list_flags = {"status", "severity", "rule", "limit", "before"};
  for (const auto& [name, value] : flags.ordered()) {
    if (list_flags.count(name)) params.emplace_back(name == "rule" ? "rule" : name, value);
  }
  auto opts = incidents::ListOptionsFromParams(params);
  if (!opts.ok()) {
    std::fprintf(stderr, "mamori incidents: %s\n", opts.status().message().c_str());
    return kExitUsage;
  }
  if (auto dir = flags.Get("data-dir")) {
    auto store = OpenOffline(*dir);
    if (!store.ok()) {
      if (store.status().code() == Status::Code::kNotFound && std::filesystem::is_directory(*dir)) {
        return kExitOk;  // no incidents yet
      }
      std::fprintf(stderr, "mamori incidents: %s\n", store.status().ToString().c_str());
      return kExitFailure;
    }
    auto list = (*store)->List(*opts);
    if (!list.ok()) {
      std::fprintf(stderr, "mamori incidents: %s\n", list.status().ToString().c_str());
      return kExitFailure;
    }
    for (const auto& inc : *list) PrintJsonLine(incidents::IncidentToJson(inc));
    if (list->size() == opts->limit && !list->empty()) {
      std::fprintf(stderr, "next: %llu\n", static_cast<unsigned long long>(list->back().id));
    }
    return kExitOk;
  }
  std::string target = "/api/v1/incidents";
  char sep = '?';
  for (const auto& [k, v] : params) {
    target += sep + k + "=" + UrlEncode(v);
    sep = '&';
  }
  HttpResult r =
      HttpCall(flags.Get("server").value_or(kDefaultServer), Token(flags), "GET", target, "");
  if (r.status != 200) return ReportHttpFailure(r);
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (!j.is_object() || !j.contains("incidents")) {
    std::fprintf(stderr, "mamori incidents: unexpected answer: %s\n", r.body.c_str());
    return kExitFailure;
  }
  for (const auto& inc : j["incidents"]) PrintJsonLine(inc);
  if (j["next"].is_string())
    std::fprintf(stderr, "next: %s\n", j["next"].get<std::string>().c_str());
  return kExitOk;
}

int Show(const Flags& flags, std::uint64_t id) {
  if (auto dir = flags.Get("data-dir")) {
    auto store = OpenOffline(*dir);
    if (!store.ok()) {
      std::fprintf(stderr, "mamori incidents: %s\n", store.status().ToString().c_str());
      return kExitFailure;
    }
    auto inc = (*store)->Get(id);
    if (!inc.ok()) {
      std::fprintf(stderr, "mamori incidents: %s\n", inc.status().ToString().c_str());
      return kExitFailure;
    }
    if (!inc->has_value()) {
      std::fprintf(stderr, "mamori incidents: incident %llu not found\n",
                   static_cast<unsigned long long>(id));
      return kExitFailure;
    }
    PrintJsonLine(incidents::IncidentToJson(**inc));
    return kExitOk;
  }
  HttpResult r = HttpCall(flags.Get("server").value_or(kDefaultServer), Token(flags), "GET",
                          "/api/v1/incident?id=" + std::to_string(id), "");
  if (r.status != 200) return ReportHttpFailure(r);
  PrintJsonLine(nlohmann::json::parse(r.body, nullptr, false));
  return kExitOk;
}

int Act(const Flags& flags, const std::string& action, std::uint64_t id) {
  nlohmann::json body = nlohmann::json::object();
  if (auto t = flags.Get("text")) body["text"] = *t;
  if (action == "assign") {
    auto owner = flags.Get("owner");
    if (!owner) {
      std::fprintf(stderr, "mamori incidents: assign needs --owner NAME\n");
      return kExitUsage;
    }
    body["owner"] = *owner;
  } else if (flags.Has("owner")) {
    std::fprintf(stderr, "mamori incidents: --owner is for assign\n");
    return kExitUsage;
  }
  if (action == "note" && !flags.Has("text")) {
    std::fprintf(stderr, "mamori incidents: note needs --text TEXT\n");
    return kExitUsage;
  }
  HttpResult r = HttpCall(flags.Get("server").value_or(kDefaultServer), Token(flags), "POST",
                          "/api/v1/incident/" + action + "?id=" + std::to_string(id), body.dump());
  if (r.status != 200) return ReportHttpFailure(r);
  PrintJsonLine(nlohmann::json::parse(r.body, nullptr, false));
  return kExitOk;
}

int Usage(const std::string& message) {
  std::fprintf(stderr, "mamori incidents: %s\n\n%s", message.c_str(), kIncidentsUsage);
  return kExitUsage;
}

}  // namespace

int IncidentsCommand(const std::vector<std::string>& args) {
  FlagSpec spec{{"data-dir", "server", "token", "status", "severity", "rule", "limit", "before",
                 "owner", "text"},
                {"help"}};
  auto flags = Flags::Parse(args, spec);
  if (!flags.ok()) return Usage(flags.status().message());
  if (flags->Has("help")) {
    std::fputs(kIncidentsUsage, stdout);
    return kExitOk;
  }
  const auto& pos = flags->positional();
  const std::string verb = pos.empty() ? "list" : pos[0];
  if (flags->Has("data-dir") && (flags->Has("server") || flags->Has("token"))) {
    return Usage("give --data-dir or --server (and --token), not both");
  }
  if (verb == "list") {
    if (pos.size() > 1) return Usage("list takes no arguments");
    if (flags->Has("owner") || flags->Has("text")) {
      return Usage("--owner and --text are for changes");
    }
    return List(*flags);
  }
  static const std::set<std::string> kVerbs = {"show",  "ack",    "acknowledge", "start", "resolve",
                                               "close", "reopen", "assign",      "note"};
  if (kVerbs.count(verb) == 0) return Usage("unknown subcommand '" + verb + "'");
  if (pos.size() != 2) return Usage(verb + " takes one incident id");
  std::uint64_t id = 0;
  const std::string& s = pos[1];
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), id);
  if (ec != std::errc() || p != s.data() + s.size() || id == 0) {
    return Usage("expected an incident id, got '" + s + "'");
  }
  for (const char* f : {"status", "severity", "rule", "limit", "before"}) {
    if (flags->Has(f)) return Usage(std::string("--") + f + " is for list");
  }
  if (verb == "show") return Show(*flags, id);
  if (flags->Has("data-dir")) {
    return Usage(
        "changes go through the running daemon (--server URL): the daemon is the only writer of "
        "incidents");
  }
  return Act(*flags, verb == "ack" ? "acknowledge" : verb, id);
}

}  // namespace mamori::app
