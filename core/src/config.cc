#include "mamori/core/config.h"

#include <arpa/inet.h>
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <fstream>
#include <set>
#include <sstream>

namespace mamori {
namespace {

bool ParseUint(std::string_view s, std::uint64_t* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

// Walks a YAML mapping, rejecting keys it was not told about.
class MapReader {
 public:
  MapReader(const YAML::Node& node, std::string path) : node_(node), path_(std::move(path)) {}

  Status Check(const std::set<std::string>& allowed) const {
    if (!node_.IsMap()) return Status::InvalidArgument(Where() + "expected a mapping");
    for (const auto& kv : node_) {
      std::string key = kv.first.as<std::string>();
      if (!allowed.count(key)) {
        return Status::InvalidArgument(Key(key) + ": unknown key");
      }
    }
    return Status::Ok();
  }
  std::string Key(const std::string& k) const { return path_.empty() ? k : path_ + "." + k; }
  std::string Where() const { return path_.empty() ? "config: " : path_ + ": "; }
  YAML::Node Get(const std::string& k) const { return node_[k]; }

  // Reads a scalar as a string; absent or null leaves *out alone.
  Status Str(const std::string& k, std::string* out) const {
    YAML::Node n = node_[k];
    if (!n || n.IsNull()) return Status::Ok();
    if (!n.IsScalar()) return Status::InvalidArgument(Key(k) + ": expected a scalar");
    *out = n.Scalar();
    return Status::Ok();
  }
  Status Bool(const std::string& k, bool* out) const {
    std::string s;
    bool present = node_[k] && !node_[k].IsNull();
    if (Status st = Str(k, &s); !st.ok() || !present) return st;
    if (s == "true" || s == "yes" || s == "on")
      *out = true;
    else if (s == "false" || s == "no" || s == "off")
      *out = false;
    else
      return Status::InvalidArgument(Key(k) + ": expected true or false, got " + Quote(s));
    return Status::Ok();
  }
  template <typename N>
  Status Uint(const std::string& k, N* out, std::uint64_t min = 0,
              std::uint64_t max = UINT32_MAX) const {
    std::string s;
    bool present = node_[k] && !node_[k].IsNull();
    if (Status st = Str(k, &s); !st.ok() || !present) return st;
    std::uint64_t v;
    if (!ParseUint(s, &v) || v < min || v > max) {
      return Status::InvalidArgument(Key(k) + ": expected an integer in [" + std::to_string(min) +
                                     ", " + std::to_string(max) + "], got " + Quote(s));
    }
    *out = static_cast<N>(v);
    return Status::Ok();
  }
  Status Bytes(const std::string& k, std::size_t* out, std::uint64_t min) const {
    std::string s;
    bool present = node_[k] && !node_[k].IsNull();
    if (Status st = Str(k, &s); !st.ok() || !present) return st;
    auto r = ParseBytes(s);
    if (!r.ok()) return Status::InvalidArgument(Key(k) + ": " + r.status().message());
    if (*r < min) {
      return Status::InvalidArgument(Key(k) + ": must be at least " + std::to_string(min));
    }
    *out = static_cast<std::size_t>(*r);
    return Status::Ok();
  }
  Status DurationMs(const std::string& k, std::int64_t* out) const {
    std::string s;
    bool present = node_[k] && !node_[k].IsNull();
    if (Status st = Str(k, &s); !st.ok() || !present) return st;
    auto r = ParseDurationMs(s);
    if (!r.ok()) return Status::InvalidArgument(Key(k) + ": " + r.status().message());
    *out = *r;
    return Status::Ok();
  }
  Status Address(const std::string& k, HostPort* out) const {
    std::string s;
    bool present = node_[k] && !node_[k].IsNull();
    if (Status st = Str(k, &s); !st.ok() || !present) return st;
    auto r = ParseHostPort(s);
    if (!r.ok()) return Status::InvalidArgument(Key(k) + ": " + r.status().message());
    *out = *r;
    return Status::Ok();
  }

 private:
  YAML::Node node_;  // a handle: copying is cheap and avoids dangling on temporaries
  std::string path_;
};

#define MAMORI_RETURN_IF_ERROR(expr) \
  do {                               \
    ::mamori::Status _st = (expr);   \
    if (!_st.ok()) return _st;       \
  } while (0)

// `tls:` of a TLS listener or of http. Presence of cert_file/key_file is checked here; whether
// the files exist and hold PEM is checked when the TLS context is built (core/tls.h), at startup.
Status LoadTls(const YAML::Node& n, const std::string& path, TlsConfig* t) {
  MapReader r(n, path);
  MAMORI_RETURN_IF_ERROR(
      r.Check({"cert_file", "key_file", "ca_file", "verify_client", "handshake_timeout"}));
  MAMORI_RETURN_IF_ERROR(r.Str("cert_file", &t->cert_file));
  MAMORI_RETURN_IF_ERROR(r.Str("key_file", &t->key_file));
  MAMORI_RETURN_IF_ERROR(r.Str("ca_file", &t->ca_file));
  MAMORI_RETURN_IF_ERROR(r.Bool("verify_client", &t->verify_client));
  MAMORI_RETURN_IF_ERROR(r.DurationMs("handshake_timeout", &t->handshake_timeout_ms));
  if (t->cert_file.empty()) return Status::InvalidArgument(r.Key("cert_file") + ": required");
  if (t->key_file.empty()) return Status::InvalidArgument(r.Key("key_file") + ": required");
  if (t->verify_client && t->ca_file.empty()) {
    return Status::InvalidArgument(r.Key("ca_file") + ": required when verify_client is true");
  }
  if (t->handshake_timeout_ms < 100) {
    return Status::InvalidArgument(r.Key("handshake_timeout") + ": must be at least 100ms");
  }
  return Status::Ok();
}

Status LoadListener(const YAML::Node& node, const std::string& path, ListenerConfig* l) {
  MapReader r(node, path);
  MAMORI_RETURN_IF_ERROR(
      r.Check({"name", "type", "address", "max_message_size", "timezone", "format",
               "max_connections", "idle_timeout", "receive_buffer_size", "tls"}));
  std::string type;
  MAMORI_RETURN_IF_ERROR(r.Str("type", &type));
  if (type == "syslog_udp")
    l->kind = ListenerConfig::Kind::kSyslogUdp;
  else if (type == "syslog_tcp")
    l->kind = ListenerConfig::Kind::kSyslogTcp;
  else if (type == "syslog_tls")
    l->kind = ListenerConfig::Kind::kSyslogTls;
  else if (type.empty())
    return Status::InvalidArgument(r.Key("type") + ": required");
  else {
    return Status::InvalidArgument(
        r.Key("type") + ": expected syslog_udp, syslog_tcp or syslog_tls, got " + Quote(type));
  }
  l->name = DefaultListenerName(l->kind);
  YAML::Node tls = r.Get("tls");
  if (l->kind == ListenerConfig::Kind::kSyslogTls) {
    if (!tls || tls.IsNull()) return Status::InvalidArgument(r.Key("tls") + ": required");
    MAMORI_RETURN_IF_ERROR(LoadTls(tls, r.Key("tls"), &l->tls));
  } else if (tls) {
    return Status::InvalidArgument(r.Key("tls") + ": only for type syslog_tls");
  }
  MAMORI_RETURN_IF_ERROR(r.Str("name", &l->name));
  if (!r.Get("address")) return Status::InvalidArgument(r.Key("address") + ": required");
  MAMORI_RETURN_IF_ERROR(r.Address("address", &l->address));
  MAMORI_RETURN_IF_ERROR(r.Bytes("max_message_size", &l->max_message_bytes, 64));
  if (l->max_message_bytes > 64ull * 1024 * 1024) {
    return Status::InvalidArgument(r.Key("max_message_size") + ": must be at most 64MiB");
  }
  std::string tz;
  MAMORI_RETURN_IF_ERROR(r.Str("timezone", &tz));
  if (!tz.empty()) {
    auto off = ParseUtcOffset(tz);
    if (!off.ok())
      return Status::InvalidArgument(r.Key("timezone") + ": " + off.status().message());
    l->utc_offset_minutes = *off;
  }
  MAMORI_RETURN_IF_ERROR(r.Str("format", &l->format));
  MAMORI_RETURN_IF_ERROR(r.Uint("max_connections", &l->max_connections, 1, 1'000'000));
  MAMORI_RETURN_IF_ERROR(r.DurationMs("idle_timeout", &l->idle_timeout_ms));
  MAMORI_RETURN_IF_ERROR(r.Bytes("receive_buffer_size", &l->receive_buffer_bytes, 4096));
  return Status::Ok();
}

Status LoadEvidence(const YAML::Node& n, EvidenceConfig* e) {
  if (!n || n.IsNull()) return Status::Ok();
  MapReader r(n, "evidence");
  MAMORI_RETURN_IF_ERROR(r.Check(
      {"chain", "checkpoint_interval", "checkpoint_file", "checkpoint_syslog", "key_file"}));
  MAMORI_RETURN_IF_ERROR(r.Bool("chain", &e->chain));
  MAMORI_RETURN_IF_ERROR(r.DurationMs("checkpoint_interval", &e->checkpoint_interval_ms));
  if (e->checkpoint_interval_ms < 100) {
    return Status::InvalidArgument("evidence.checkpoint_interval: must be at least 100ms");
  }
  MAMORI_RETURN_IF_ERROR(r.Str("checkpoint_file", &e->checkpoint_file));
  MAMORI_RETURN_IF_ERROR(r.Str("checkpoint_syslog", &e->checkpoint_syslog));
  if (!e->checkpoint_syslog.empty()) {
    std::string_view v = e->checkpoint_syslog;
    bool udp = v.rfind("udp://", 0) == 0, tcp = v.rfind("tcp://", 0) == 0;
    if ((!udp && !tcp) || !ParseHostPort(v.substr(6)).ok()) {
      return Status::InvalidArgument(
          "evidence.checkpoint_syslog: expected udp://HOST:PORT or tcp://HOST:PORT, got " +
          Quote(v));
    }
  }
  MAMORI_RETURN_IF_ERROR(r.Str("key_file", &e->key_file));
  return Status::Ok();
}

Status LoadRetention(const YAML::Node& n, RetentionConfig* rc) {
  if (!n || n.IsNull()) return Status::Ok();
  MapReader r(n, "retention");
  MAMORI_RETURN_IF_ERROR(r.Check({"class_I", "class_II", "class_III", "check_interval"}));
  MAMORI_RETURN_IF_ERROR(r.DurationMs("class_I", &rc->class_i_ms));
  MAMORI_RETURN_IF_ERROR(r.DurationMs("class_II", &rc->class_ii_ms));
  MAMORI_RETURN_IF_ERROR(r.DurationMs("class_III", &rc->class_iii_ms));
  MAMORI_RETURN_IF_ERROR(r.DurationMs("check_interval", &rc->check_interval_ms));
  if (rc->check_interval_ms < 100) {
    return Status::InvalidArgument("retention.check_interval: must be at least 100ms");
  }
  return Status::Ok();
}

Status ParseClass(const std::string& key, const std::string& s, InfoClass* out) {
  if (s == "I" || s == "1")
    *out = InfoClass::kI;
  else if (s == "II" || s == "2")
    *out = InfoClass::kII;
  else if (s == "III" || s == "3")
    *out = InfoClass::kIII;
  else
    return Status::InvalidArgument(key + ": expected I, II or III, got " + Quote(s));
  return Status::Ok();
}

Status LoadClassification(const YAML::Node& n, ClassificationConfig* cc) {
  if (!n || n.IsNull()) return Status::Ok();
  MapReader r(n, "classification");
  MAMORI_RETURN_IF_ERROR(r.Check({"my_number", "rules"}));
  if (YAML::Node m = r.Get("my_number"); m && !m.IsNull()) {
    MapReader mr(m, "classification.my_number");
    MAMORI_RETURN_IF_ERROR(mr.Check({"detect", "mask"}));
    MAMORI_RETURN_IF_ERROR(mr.Bool("detect", &cc->detect_my_number));
    MAMORI_RETURN_IF_ERROR(mr.Bool("mask", &cc->mask_my_number));
  }
  if (YAML::Node rules = r.Get("rules"); rules && !rules.IsNull()) {
    if (!rules.IsSequence())
      return Status::InvalidArgument("classification.rules: expected a list");
    for (std::size_t i = 0; i < rules.size(); ++i) {
      std::string path = "classification.rules[" + std::to_string(i) + "]";
      MapReader rr(rules[i], path);
      MAMORI_RETURN_IF_ERROR(rr.Check({"name", "class", "host", "app", "field", "pattern"}));
      ClassRule cr;
      cr.name = "rule" + std::to_string(i);
      MAMORI_RETURN_IF_ERROR(rr.Str("name", &cr.name));
      std::string cls;
      MAMORI_RETURN_IF_ERROR(rr.Str("class", &cls));
      if (cls.empty()) return Status::InvalidArgument(path + ".class: required");
      MAMORI_RETURN_IF_ERROR(ParseClass(path + ".class", cls, &cr.info_class));
      MAMORI_RETURN_IF_ERROR(rr.Str("host", &cr.host));
      MAMORI_RETURN_IF_ERROR(rr.Str("app", &cr.app));
      MAMORI_RETURN_IF_ERROR(rr.Str("field", &cr.field));
      MAMORI_RETURN_IF_ERROR(rr.Str("pattern", &cr.pattern));
      if (cr.host.empty() && cr.app.empty() && cr.pattern.empty()) {
        return Status::InvalidArgument(path + ": needs at least one of host, app, pattern");
      }
      cc->rules.push_back(std::move(cr));
    }
  }
  return Status::Ok();
}

// "10.0.0.0/8", "2001:db8::/32": an address inet_pton accepts and a prefix within its width.
bool IsValidCidr(const std::string& s) {
  auto slash = s.find('/');
  if (slash == std::string::npos) return false;
  std::string addr = s.substr(0, slash);
  std::uint64_t prefix;
  if (!ParseUint(std::string_view(s).substr(slash + 1), &prefix)) return false;
  unsigned char buf[16];
  if (inet_pton(AF_INET, addr.c_str(), buf) == 1) return prefix <= 32;
  if (inet_pton(AF_INET6, addr.c_str(), buf) == 1) return prefix <= 128;
  return false;
}

Status LoadSources(const YAML::Node& n, std::vector<SourceConfig>* out) {
  if (!n || n.IsNull()) return Status::Ok();
  if (!n.IsSequence()) return Status::InvalidArgument("sources: expected a list");
  std::set<std::string> names;
  for (std::size_t i = 0; i < n.size(); ++i) {
    std::string path = "sources[" + std::to_string(i) + "]";
    MapReader r(n[i], path);
    MAMORI_RETURN_IF_ERROR(r.Check({"name", "host", "network"}));
    SourceConfig sc;
    MAMORI_RETURN_IF_ERROR(r.Str("name", &sc.name));
    MAMORI_RETURN_IF_ERROR(r.Str("host", &sc.host));
    MAMORI_RETURN_IF_ERROR(r.Str("network", &sc.network));
    if (sc.name.empty()) return Status::InvalidArgument(path + ".name: required");
    if (!names.insert(sc.name).second) {
      return Status::InvalidArgument(path + ".name: duplicate source name " + Quote(sc.name));
    }
    if (sc.host.empty() == sc.network.empty()) {
      return Status::InvalidArgument(path + ": give exactly one of host or network");
    }
    if (!sc.network.empty() && !IsValidCidr(sc.network)) {
      return Status::InvalidArgument(path + ".network: expected CIDR like 10.0.0.0/8, got " +
                                     Quote(sc.network));
    }
    out->push_back(std::move(sc));
  }
  return Status::Ok();
}

Status LoadRules(const YAML::Node& n, RulesConfig* rc) {
  if (!n || n.IsNull()) return Status::Ok();
  MapReader r(n, "rules");
  MAMORI_RETURN_IF_ERROR(r.Check({"paths", "max_groups_per_rule", "allowed_lateness"}));
  if (YAML::Node p = r.Get("paths"); p && !p.IsNull()) {
    if (!p.IsSequence()) return Status::InvalidArgument("rules.paths: expected a list");
    for (std::size_t i = 0; i < p.size(); ++i) {
      if (!p[i].IsScalar() || p[i].Scalar().empty()) {
        return Status::InvalidArgument("rules.paths[" + std::to_string(i) +
                                       "]: expected a file or directory path");
      }
      rc->paths.push_back(p[i].Scalar());
    }
  }
  MAMORI_RETURN_IF_ERROR(r.Uint("max_groups_per_rule", &rc->max_groups_per_rule, 1, 100'000'000));
  MAMORI_RETURN_IF_ERROR(r.DurationMs("allowed_lateness", &rc->allowed_lateness_ms));
  return Status::Ok();
}

// Reads a secret from `file_key` (trailing newlines dropped) when given; `key` and `file_key`
// exclude each other.
Status ReadSecret(const MapReader& r, const std::string& key, const std::string& file_key,
                  std::string* out) {
  std::string file;
  MAMORI_RETURN_IF_ERROR(r.Str(key, out));
  MAMORI_RETURN_IF_ERROR(r.Str(file_key, &file));
  if (file.empty()) return Status::Ok();
  if (!out->empty()) {
    return Status::InvalidArgument(r.Key(file_key) + ": give " + key + " or " + file_key +
                                   ", not both");
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return Status::InvalidArgument(r.Key(file_key) + ": cannot read " + Quote(file));
  std::stringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  while (!out->empty() && (out->back() == '\n' || out->back() == '\r')) out->pop_back();
  if (out->empty())
    return Status::InvalidArgument(r.Key(file_key) + ": " + Quote(file) + " is empty");
  return Status::Ok();
}

Status ParseSeverityName(const std::string& key, const std::string& s, int* out) {
  static const char* kNames[] = {"info", "low", "medium", "high", "critical"};
  for (int i = 0; i < 5; ++i) {
    if (s == kNames[i]) {
      *out = i;
      return Status::Ok();
    }
  }
  return Status::InvalidArgument(key + ": expected info, low, medium, high or critical, got " +
                                 Quote(s));
}

// "SCHEME://HOST:PORT[/PATH]" with one of `schemes`; the path only when allow_path.
bool ValidUrl(std::string_view url, std::initializer_list<std::string_view> schemes,
              bool allow_path) {
  auto sep = url.find("://");
  if (sep == std::string_view::npos) return false;
  std::string_view scheme = url.substr(0, sep), rest = url.substr(sep + 3);
  bool known = false;
  for (auto s : schemes) known = known || s == scheme;
  if (!known) return false;
  auto slash = rest.find('/');
  if (slash != std::string_view::npos && !allow_path) return false;
  std::string_view hp = rest.substr(0, slash);
  auto parsed = ParseHostPort(hp);
  return parsed.ok() && parsed->port != 0;
}

Status LoadChannel(const YAML::Node& node, const std::string& path, NotificationChannelConfig* ch) {
  MapReader r(node, path);
  MAMORI_RETURN_IF_ERROR(
      r.Check({"name", "type", "url", "secret", "secret_file", "min_severity", "tags", "from", "to",
               "starttls", "username", "password", "password_file", "ca_file", "timeout"}));
  MAMORI_RETURN_IF_ERROR(r.Str("name", &ch->name));
  if (ch->name.empty()) return Status::InvalidArgument(r.Key("name") + ": required");
  std::string type;
  MAMORI_RETURN_IF_ERROR(r.Str("type", &type));
  if (type == "webhook")
    ch->type = NotificationChannelConfig::Type::kWebhook;
  else if (type == "syslog")
    ch->type = NotificationChannelConfig::Type::kSyslog;
  else if (type == "smtp")
    ch->type = NotificationChannelConfig::Type::kSmtp;
  else if (type.empty())
    return Status::InvalidArgument(r.Key("type") + ": required");
  else
    return Status::InvalidArgument(r.Key("type") + ": expected webhook, syslog or smtp, got " +
                                   Quote(type));
  MAMORI_RETURN_IF_ERROR(r.Str("url", &ch->url));
  using T = NotificationChannelConfig::Type;
  bool ok = ch->type == T::kWebhook  ? ValidUrl(ch->url, {"http", "https"}, true)
            : ch->type == T::kSyslog ? ValidUrl(ch->url, {"udp", "tcp"}, false)
                                     : ValidUrl(ch->url, {"smtp"}, false);
  if (!ok) {
    const char* want = ch->type == T::kWebhook  ? "http(s)://HOST:PORT/PATH"
                       : ch->type == T::kSyslog ? "udp://HOST:PORT or tcp://HOST:PORT"
                                                : "smtp://HOST:PORT";
    return Status::InvalidArgument(r.Key("url") + ": expected " + want + ", got " + Quote(ch->url));
  }
  MAMORI_RETURN_IF_ERROR(ReadSecret(r, "secret", "secret_file", &ch->secret));
  if (!ch->secret.empty() && ch->type != T::kWebhook) {
    return Status::InvalidArgument(r.Key("secret") + ": only webhook channels sign");
  }
  std::string sev;
  MAMORI_RETURN_IF_ERROR(r.Str("min_severity", &sev));
  if (!sev.empty())
    MAMORI_RETURN_IF_ERROR(ParseSeverityName(r.Key("min_severity"), sev, &ch->min_severity));
  if (YAML::Node t = r.Get("tags"); t && !t.IsNull()) {
    if (!t.IsSequence()) return Status::InvalidArgument(r.Key("tags") + ": expected a list");
    for (std::size_t i = 0; i < t.size(); ++i) {
      if (!t[i].IsScalar() || t[i].Scalar().empty()) {
        return Status::InvalidArgument(r.Key("tags") + "[" + std::to_string(i) +
                                       "]: expected a tag");
      }
      ch->tags.push_back(t[i].Scalar());
    }
  }
  MAMORI_RETURN_IF_ERROR(r.Str("from", &ch->mail_from));
  if (YAML::Node t = r.Get("to"); t && !t.IsNull()) {
    if (t.IsScalar()) {
      ch->mail_to.push_back(t.Scalar());
    } else if (t.IsSequence()) {
      for (std::size_t i = 0; i < t.size(); ++i) {
        if (!t[i].IsScalar()) {
          return Status::InvalidArgument(r.Key("to") + "[" + std::to_string(i) +
                                         "]: expected an address");
        }
        ch->mail_to.push_back(t[i].Scalar());
      }
    } else {
      return Status::InvalidArgument(r.Key("to") + ": expected an address or a list");
    }
  }
  auto bad_addr = [](const std::string& a) {
    return a.empty() || a.find('@') == std::string::npos ||
           a.find_first_of("<>\r\n \t") != std::string::npos;
  };
  MAMORI_RETURN_IF_ERROR(r.Bool("starttls", &ch->starttls));
  MAMORI_RETURN_IF_ERROR(r.Str("username", &ch->username));
  MAMORI_RETURN_IF_ERROR(ReadSecret(r, "password", "password_file", &ch->password));
  if (ch->type == T::kSmtp) {
    if (bad_addr(ch->mail_from)) {
      return Status::InvalidArgument(r.Key("from") + ": expected a mail address, got " +
                                     Quote(ch->mail_from));
    }
    if (ch->mail_to.empty()) return Status::InvalidArgument(r.Key("to") + ": required");
    for (const auto& a : ch->mail_to) {
      if (bad_addr(a)) {
        return Status::InvalidArgument(r.Key("to") + ": expected a mail address, got " + Quote(a));
      }
    }
    if (!ch->username.empty() && !ch->starttls) {
      return Status::InvalidArgument(r.Key("username") +
                                     ": credentials are only sent over STARTTLS (starttls: true)");
    }
    if (ch->username.empty() != ch->password.empty()) {
      return Status::InvalidArgument(r.Key("password") + ": give both username and password");
    }
  } else {
    for (const char* k : {"from", "to", "starttls", "username", "password", "password_file"}) {
      if (r.Get(k) && !r.Get(k).IsNull()) {
        return Status::InvalidArgument(r.Key(k) + ": only for smtp channels");
      }
    }
  }
  MAMORI_RETURN_IF_ERROR(r.Str("ca_file", &ch->ca_file));
  MAMORI_RETURN_IF_ERROR(r.DurationMs("timeout", &ch->timeout_ms));
  if (ch->timeout_ms < 100 || ch->timeout_ms > 600'000) {
    return Status::InvalidArgument(r.Key("timeout") + ": expected 100ms to 10m");
  }
  return Status::Ok();
}

Status LoadNotifications(const YAML::Node& n, NotificationsConfig* nc) {
  if (!n || n.IsNull()) return Status::Ok();
  MapReader r(n, "notifications");
  MAMORI_RETURN_IF_ERROR(r.Check({"channels", "retry_initial", "retry_max", "retry_jitter",
                                  "max_age", "throttle", "base_url"}));
  if (YAML::Node chs = r.Get("channels"); chs && !chs.IsNull()) {
    if (!chs.IsSequence())
      return Status::InvalidArgument("notifications.channels: expected a list");
    std::set<std::string> names;
    for (std::size_t i = 0; i < chs.size(); ++i) {
      std::string path = "notifications.channels[" + std::to_string(i) + "]";
      NotificationChannelConfig ch;
      MAMORI_RETURN_IF_ERROR(LoadChannel(chs[i], path, &ch));
      if (!names.insert(ch.name).second) {
        return Status::InvalidArgument(path + ".name: duplicate channel name " + Quote(ch.name));
      }
      nc->channels.push_back(std::move(ch));
    }
  }
  MAMORI_RETURN_IF_ERROR(r.DurationMs("retry_initial", &nc->retry_initial_ms));
  MAMORI_RETURN_IF_ERROR(r.DurationMs("retry_max", &nc->retry_max_ms));
  MAMORI_RETURN_IF_ERROR(r.Uint("retry_jitter", &nc->retry_jitter_percent, 0, 100));
  MAMORI_RETURN_IF_ERROR(r.DurationMs("max_age", &nc->max_age_ms));
  MAMORI_RETURN_IF_ERROR(r.DurationMs("throttle", &nc->throttle_ms));
  MAMORI_RETURN_IF_ERROR(r.Str("base_url", &nc->base_url));
  if (nc->retry_initial_ms < 10) {
    return Status::InvalidArgument("notifications.retry_initial: must be at least 10ms");
  }
  if (nc->retry_max_ms < nc->retry_initial_ms) {
    return Status::InvalidArgument("notifications.retry_max: must be at least retry_initial");
  }
  if (nc->max_age_ms < 1000) {
    return Status::InvalidArgument("notifications.max_age: must be at least 1s");
  }
  if (!nc->base_url.empty() && nc->base_url.rfind("http://", 0) != 0 &&
      nc->base_url.rfind("https://", 0) != 0) {
    return Status::InvalidArgument("notifications.base_url: expected http(s)://..., got " +
                                   Quote(nc->base_url));
  }
  return Status::Ok();
}

Status LoadRoot(const YAML::Node& root, Config* c) {
  if (!root || root.IsNull()) return Status::Ok();  // empty file: all defaults
  MapReader r(root, "");
  MAMORI_RETURN_IF_ERROR(
      r.Check({"data_dir", "listeners", "http", "storage", "pipeline", "log_level", "evidence",
               "retention", "classification", "sources", "rules", "incidents", "notifications"}));
  MAMORI_RETURN_IF_ERROR(r.Str("data_dir", &c->data_dir));
  MAMORI_RETURN_IF_ERROR(r.Str("log_level", &c->log_level));
  if (YAML::Node ls = r.Get("listeners"); ls && !ls.IsNull()) {
    if (!ls.IsSequence()) return Status::InvalidArgument("listeners: expected a list");
    c->listeners.clear();
    for (std::size_t i = 0; i < ls.size(); ++i) {
      ListenerConfig l;
      MAMORI_RETURN_IF_ERROR(LoadListener(ls[i], "listeners[" + std::to_string(i) + "]", &l));
      c->listeners.push_back(std::move(l));
    }
  }
  if (YAML::Node h = r.Get("http"); h && !h.IsNull()) {
    MapReader hr(h, "http");
    MAMORI_RETURN_IF_ERROR(
        hr.Check({"enabled", "address", "max_body_size", "tls", "open_on_loopback",
                  "auth_failure_limit", "auth_failure_window", "auth_lockout"}));
    MAMORI_RETURN_IF_ERROR(
        hr.Uint("auth_failure_limit", &c->http.auth_failure_limit, 0, 1'000'000));
    MAMORI_RETURN_IF_ERROR(hr.DurationMs("auth_failure_window", &c->http.auth_failure_window_ms));
    MAMORI_RETURN_IF_ERROR(hr.DurationMs("auth_lockout", &c->http.auth_lockout_ms));
    MAMORI_RETURN_IF_ERROR(hr.Bool("enabled", &c->http.enabled));
    MAMORI_RETURN_IF_ERROR(hr.Address("address", &c->http.address));
    MAMORI_RETURN_IF_ERROR(hr.Bytes("max_body_size", &c->http.max_body_bytes, 1024));
    if (YAML::Node t = hr.Get("tls"); t && !t.IsNull()) {
      MAMORI_RETURN_IF_ERROR(LoadTls(t, "http.tls", &c->http.tls));
    }
    if (YAML::Node o = hr.Get("open_on_loopback"); o) {
      if (!o.IsSequence()) {
        return Status::InvalidArgument("http.open_on_loopback: expected a list (may be [])");
      }
      c->http.open_on_loopback.clear();
      for (std::size_t i = 0; i < o.size(); ++i) {
        const std::string v = o[i].IsScalar() ? o[i].Scalar() : "";
        if (v != "/metrics" && v != "/healthz") {
          return Status::InvalidArgument("http.open_on_loopback[" + std::to_string(i) +
                                         "]: only /metrics and /healthz may be served without a "
                                         "token, got " +
                                         Quote(v));
        }
        c->http.open_on_loopback.push_back(v);
      }
    }
  }
  if (YAML::Node s = r.Get("storage"); s && !s.IsNull()) {
    MapReader sr(s, "storage");
    MAMORI_RETURN_IF_ERROR(
        sr.Check({"sync", "write_batch_max", "block_cache_size", "compression"}));
    MAMORI_RETURN_IF_ERROR(sr.Bool("sync", &c->storage.sync));
    MAMORI_RETURN_IF_ERROR(
        sr.Uint("write_batch_max", &c->storage.write_batch_max_records, 1, 1'000'000));
    MAMORI_RETURN_IF_ERROR(sr.Bytes("block_cache_size", &c->storage.block_cache_bytes, 0));
    MAMORI_RETURN_IF_ERROR(sr.Str("compression", &c->storage.compression));
    if (c->storage.compression != "lz4" && c->storage.compression != "zstd" &&
        c->storage.compression != "none") {
      return Status::InvalidArgument(sr.Key("compression") + ": expected lz4, zstd or none, got " +
                                     Quote(c->storage.compression));
    }
  }
  if (YAML::Node p = r.Get("pipeline"); p && !p.IsNull()) {
    MapReader pr(p, "pipeline");
    MAMORI_RETURN_IF_ERROR(pr.Check({"queue_capacity"}));
    MAMORI_RETURN_IF_ERROR(pr.Uint("queue_capacity", &c->pipeline.queue_capacity, 1, 100'000'000));
  }
  MAMORI_RETURN_IF_ERROR(LoadEvidence(r.Get("evidence"), &c->evidence));
  MAMORI_RETURN_IF_ERROR(LoadRetention(r.Get("retention"), &c->retention));
  MAMORI_RETURN_IF_ERROR(LoadClassification(r.Get("classification"), &c->classification));
  MAMORI_RETURN_IF_ERROR(LoadSources(r.Get("sources"), &c->sources));
  MAMORI_RETURN_IF_ERROR(LoadRules(r.Get("rules"), &c->rules));
  if (YAML::Node inc = r.Get("incidents"); inc && !inc.IsNull()) {
    MapReader ir(inc, "incidents");
    MAMORI_RETURN_IF_ERROR(ir.Check({"reopen_window", "max_evidence"}));
    MAMORI_RETURN_IF_ERROR(ir.DurationMs("reopen_window", &c->incidents.reopen_window_ms));
    MAMORI_RETURN_IF_ERROR(ir.Uint("max_evidence", &c->incidents.max_evidence, 1, 1'000'000));
  }
  MAMORI_RETURN_IF_ERROR(LoadNotifications(r.Get("notifications"), &c->notifications));
  return Status::Ok();
}

}  // namespace

const char* DefaultListenerName(ListenerConfig::Kind kind) {
  switch (kind) {
    case ListenerConfig::Kind::kSyslogUdp:
      return "syslog-udp";
    case ListenerConfig::Kind::kSyslogTcp:
      return "syslog-tcp";
    case ListenerConfig::Kind::kSyslogTls:
      return "syslog-tls";
  }
  return "syslog";
}

std::string HostPort::ToString() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

Result<HostPort> ParseHostPort(std::string_view s) {
  HostPort hp;
  std::string_view port;
  if (!s.empty() && s.front() == '[') {
    auto close = s.find(']');
    if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':') {
      return Status::InvalidArgument("expected [IPV6]:PORT, got " + Quote(s));
    }
    hp.host = std::string(s.substr(1, close - 1));
    port = s.substr(close + 2);
  } else {
    auto colon = s.rfind(':');
    if (colon == std::string_view::npos || colon == 0 ||
        s.substr(0, colon).find(':') != std::string_view::npos) {
      return Status::InvalidArgument("expected HOST:PORT, got " + Quote(s));
    }
    hp.host = std::string(s.substr(0, colon));
    port = s.substr(colon + 1);
  }
  std::uint64_t p;
  if (hp.host.empty() || !ParseUint(port, &p) || p > 65535) {
    return Status::InvalidArgument("expected HOST:PORT with a port in 0..65535, got " + Quote(s));
  }
  hp.port = static_cast<std::uint16_t>(p);
  return hp;
}

Result<std::int64_t> ParseDurationMs(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  std::uint64_t n;
  if (i == 0 || !ParseUint(s.substr(0, i), &n) || n > (1ull << 40)) {
    return Status::InvalidArgument("expected a duration like 30s, 5m, 2h, 7d, got " + Quote(s));
  }
  std::string_view unit = s.substr(i);
  std::int64_t mult;
  if (unit.empty() || unit == "s")
    mult = 1000;
  else if (unit == "ms")
    mult = 1;
  else if (unit == "m")
    mult = 60'000;
  else if (unit == "h")
    mult = 3'600'000;
  else if (unit == "d")
    mult = 86'400'000;
  else
    return Status::InvalidArgument("unknown duration unit in " + Quote(s) + " (ms, s, m, h, d)");
  return static_cast<std::int64_t>(n) * mult;
}

Result<std::uint64_t> ParseBytes(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  std::uint64_t n;
  if (i == 0 || !ParseUint(s.substr(0, i), &n) || n > (1ull << 40)) {
    return Status::InvalidArgument("expected a size like 65536, 64KiB or 8MiB, got " + Quote(s));
  }
  std::string_view unit = s.substr(i);
  std::uint64_t mult;
  if (unit.empty() || unit == "B")
    mult = 1;
  else if (unit == "KiB")
    mult = 1ull << 10;
  else if (unit == "MiB")
    mult = 1ull << 20;
  else if (unit == "GiB")
    mult = 1ull << 30;
  else if (unit == "KB")
    mult = 1000;
  else if (unit == "MB")
    mult = 1000'000;
  else if (unit == "GB")
    mult = 1000'000'000;
  else
    return Status::InvalidArgument("unknown size unit in " + Quote(s) + " (KiB, MiB, GiB)");
  return n * mult;
}

Result<int> ParseUtcOffset(std::string_view s) {
  if (s == "Z" || s == "UTC" || s == "utc") return 0;
  auto bad = [&] {
    return Status::InvalidArgument("expected UTC or an offset like +09:00, got " + Quote(s));
  };
  if (s.size() < 3 || (s[0] != '+' && s[0] != '-')) return bad();
  std::string digits;
  for (char ch : s.substr(1)) {
    if (ch == ':') continue;
    if (ch < '0' || ch > '9') return bad();
    digits += ch;
  }
  if (digits.size() != 2 && digits.size() != 4) return bad();
  int h = std::stoi(digits.substr(0, 2));
  int m = digits.size() == 4 ? std::stoi(digits.substr(2, 2)) : 0;
  if (h > 14 || m > 59) return bad();
  int total = h * 60 + m;
  return s[0] == '-' ? -total : total;
}

Config DefaultConfig() {
  Config c;
  ListenerConfig udp;
  udp.name = "syslog-udp";
  udp.kind = ListenerConfig::Kind::kSyslogUdp;
  udp.address = {"127.0.0.1", 5514};
  ListenerConfig tcp;
  tcp.name = "syslog-tcp";
  tcp.kind = ListenerConfig::Kind::kSyslogTcp;
  tcp.address = {"127.0.0.1", 5514};
  c.listeners = {udp, tcp};
  return c;
}

Status ValidateConfig(const Config& c) {
  if (c.data_dir.empty()) return Status::InvalidArgument("data_dir: must not be empty");
  static const std::set<std::string> kLevels = {"debug", "info", "warn", "error"};
  if (!kLevels.count(c.log_level)) {
    return Status::InvalidArgument("log_level: expected debug, info, warn or error, got " +
                                   Quote(c.log_level));
  }
  std::set<std::string> names;
  for (std::size_t i = 0; i < c.listeners.size(); ++i) {
    const auto& l = c.listeners[i];
    std::string key = "listeners[" + std::to_string(i) + "]";
    if (l.name.empty()) return Status::InvalidArgument(key + ".name: must not be empty");
    if (!names.insert(l.name).second) {
      return Status::InvalidArgument(key + ".name: duplicate listener name " + Quote(l.name));
    }
    if (l.kind == ListenerConfig::Kind::kSyslogTls) {
      if (l.tls.cert_file.empty()) return Status::InvalidArgument(key + ".tls.cert_file: required");
      if (l.tls.key_file.empty()) return Status::InvalidArgument(key + ".tls.key_file: required");
      if (l.tls.verify_client && l.tls.ca_file.empty()) {
        return Status::InvalidArgument(key + ".tls.ca_file: required when verify_client is true");
      }
    }
  }
  if (c.http.auth_failure_limit > 0) {
    if (c.http.auth_failure_window_ms <= 0) {
      return Status::InvalidArgument(
          "http.auth_failure_window: must be longer than 0 (auth_failure_limit: 0 disables the "
          "lockout)");
    }
    if (c.http.auth_lockout_ms <= 0) {
      return Status::InvalidArgument(
          "http.auth_lockout: must be longer than 0 (auth_failure_limit: 0 disables the "
          "lockout)");
    }
  }
  if (!c.http.tls.key_file.empty() && c.http.tls.cert_file.empty()) {
    return Status::InvalidArgument("http.tls.cert_file: required");
  }
  if (c.storage.write_batch_max_records == 0) {
    return Status::InvalidArgument("storage.write_batch_max: must be at least 1");
  }
  return Status::Ok();
}

Result<Config> LoadConfigString(std::string_view yaml) {
  Config c = DefaultConfig();
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    if (Status st = LoadRoot(root, &c); !st.ok()) return st;
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument("config: YAML error at line " + std::to_string(e.mark.line + 1) +
                                   ", column " + std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  if (Status st = ValidateConfig(c); !st.ok()) return st;
  return c;
}

Result<Config> LoadConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot read config file " + Quote(path));
  std::stringstream ss;
  ss << in.rdbuf();
  auto r = LoadConfigString(ss.str());
  if (!r.ok()) {
    return Status::InvalidArgument(path + ": " + r.status().message());
  }
  return r;
}

}  // namespace mamori
