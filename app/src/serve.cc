#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "daemon.h"
#include "flags.h"
#include "mamori/core/config.h"
#include "mamori/core/log.h"

namespace mamori::app {
namespace {

constexpr const char* kServeUsage = R"(usage: mamori serve [--config FILE] [overrides]

Runs the daemon. Without --config it runs on the embedded default: syslog on UDP and TCP
127.0.0.1:5514, the HTTP API on 127.0.0.1:8514, data in ./mamori-data.

flags (override the config file):
  --config FILE           YAML configuration (docs/configuration.md)
  --data-dir DIR          where the evidence store lives
  --syslog-udp HOST:PORT  address of the first UDP syslog listener (added if there is none)
  --syslog-tcp HOST:PORT  address of the first TCP syslog listener (added if there is none)
  --syslog-tls HOST:PORT  address of the first syslog-over-TLS listener (RFC 5425; added if
                          there is none, and then needs --tls-cert and --tls-key)
  --tls-cert FILE         server certificate (PEM) of that TLS listener
  --tls-key FILE          its private key (PEM)
  --tls-ca FILE           CA certificates for client certificates
  --tls-verify-client     require a valid client certificate (mutual TLS; needs --tls-ca)
  --http HOST:PORT        address of the HTTP API
  --log-level LEVEL       debug, info, warn or error
  --rules PATH            rule file or directory; repeatable; replaces the config's rules.paths
Port 0 asks the kernel for a free port; the bound ports are logged at startup.
A rule that fails to load is logged (file:line, rule id) and left out; the others run. A rules
path that does not exist is a config error (exit 2). SIGHUP reloads the rules and the TLS
certificates (docs/tls.md). HTTPS for the API is configured in the config file (http.tls).
)";

Status Override(Config* c, ListenerConfig::Kind kind, const std::string& addr, const char* flag) {
  auto hp = ParseHostPort(addr);
  if (!hp.ok()) return Status::InvalidArgument(std::string(flag) + ": " + hp.status().message());
  for (auto& l : c->listeners) {
    if (l.kind == kind) {
      l.address = *hp;
      return Status::Ok();
    }
  }
  ListenerConfig l;
  l.kind = kind;
  l.name = DefaultListenerName(kind);
  l.address = *hp;
  c->listeners.push_back(l);
  return Status::Ok();
}

Result<Config> BuildConfig(const Flags& flags) {
  Config config = DefaultConfig();
  if (auto path = flags.Get("config")) {
    auto loaded = LoadConfigFile(*path);
    if (!loaded.ok()) return loaded.status();
    config = std::move(loaded).value();
  }
  if (auto v = flags.Get("data-dir")) config.data_dir = *v;
  if (auto v = flags.Get("log-level")) config.log_level = *v;
  if (flags.Has("rules")) config.rules.paths = flags.GetAll("rules");
  for (const auto& p : config.rules.paths) {
    std::error_code ec;
    if (!std::filesystem::exists(p, ec)) {
      return Status::InvalidArgument("rules path '" + p + "': does not exist");
    }
  }
  if (auto v = flags.Get("syslog-udp")) {
    if (Status st = Override(&config, ListenerConfig::Kind::kSyslogUdp, *v, "--syslog-udp");
        !st.ok()) {
      return st;
    }
  }
  if (auto v = flags.Get("syslog-tcp")) {
    if (Status st = Override(&config, ListenerConfig::Kind::kSyslogTcp, *v, "--syslog-tcp");
        !st.ok()) {
      return st;
    }
  }
  if (auto v = flags.Get("syslog-tls")) {
    if (Status st = Override(&config, ListenerConfig::Kind::kSyslogTls, *v, "--syslog-tls");
        !st.ok()) {
      return st;
    }
  }
  if (flags.Has("tls-cert") || flags.Has("tls-key") || flags.Has("tls-ca") ||
      flags.Has("tls-verify-client")) {
    ListenerConfig* tls = nullptr;
    for (auto& l : config.listeners) {
      if (l.kind == ListenerConfig::Kind::kSyslogTls) {
        tls = &l;
        break;
      }
    }
    if (tls == nullptr) {
      return Status::InvalidArgument(
          "--tls-cert/--tls-key/--tls-ca/--tls-verify-client: no syslog_tls listener (add "
          "--syslog-tls HOST:PORT)");
    }
    if (auto v = flags.Get("tls-cert")) tls->tls.cert_file = *v;
    if (auto v = flags.Get("tls-key")) tls->tls.key_file = *v;
    if (auto v = flags.Get("tls-ca")) tls->tls.ca_file = *v;
    if (flags.Has("tls-verify-client")) tls->tls.verify_client = true;
  }
  for (const auto& l : config.listeners) {
    if (l.kind == ListenerConfig::Kind::kSyslogTls && flags.Has("syslog-tls") &&
        (l.tls.cert_file.empty() || l.tls.key_file.empty())) {
      return Status::InvalidArgument(
          "--syslog-tls: listener '" + l.name +
          "' needs a certificate and key: --tls-cert FILE --tls-key FILE (or tls: in the config)");
    }
  }
  if (auto v = flags.Get("http")) {
    auto hp = ParseHostPort(*v);
    if (!hp.ok()) return Status::InvalidArgument("--http: " + hp.status().message());
    config.http.address = *hp;
    config.http.enabled = true;
  }
  if (Status st = ValidateConfig(config); !st.ok()) return st;
  return config;
}

}  // namespace

int ServeCommand(const std::vector<std::string>& args) {
  FlagSpec spec{{"config", "data-dir", "syslog-udp", "syslog-tcp", "syslog-tls", "tls-cert",
                 "tls-key", "tls-ca", "http", "log-level", "rules"},
                {"help", "tls-verify-client"}};
  auto flags = Flags::Parse(args, spec);
  if (!flags.ok()) {
    std::fprintf(stderr, "mamori serve: %s\n\n%s", flags.status().message().c_str(), kServeUsage);
    return kExitUsage;
  }
  if (flags->Has("help")) {
    std::fputs(kServeUsage, stdout);
    return kExitOk;
  }
  if (!flags->positional().empty()) {
    std::fprintf(stderr, "mamori serve: unexpected argument '%s'\n",
                 flags->positional().front().c_str());
    return kExitUsage;
  }
  auto config = BuildConfig(*flags);
  if (!config.ok()) {
    std::fprintf(stderr, "mamori serve: config error: %s\n", config.status().message().c_str());
    return kExitUsage;
  }
  Daemon daemon(std::move(config).value());
  if (Status st = daemon.Start(); !st.ok()) {
    log::Error("app", "startup failed: " + st.ToString());
    return kExitFailure;
  }
  log::Info("app", "mamori " MAMORI_VERSION " serving");
  if (Status st = daemon.Run(); !st.ok()) {
    log::Error("app", "shutdown: " + st.ToString());
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace mamori::app
