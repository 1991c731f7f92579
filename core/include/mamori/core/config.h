// mamori's configuration: plain structs with their defaults, and the YAML loader that fills and
// validates them. The embedded default (DefaultConfig) is what `mamori serve` runs with when no
// file is given: loopback listeners on unprivileged ports and a store in ./mamori-data.
//
// Every key is documented in docs/configuration.md. Loading rejects unknown keys and bad values
// with a message that names the key ("listeners[1].address: expected HOST:PORT, got 'x'").
// Thread-safety: plain values; load once at startup, then share read-only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mamori/core/record.h"
#include "mamori/core/status.h"

namespace mamori {

struct HostPort {
  std::string host;              // literal address or name; IPv6 without brackets
  std::uint16_t port = 0;        // 0 = let the kernel choose (the bound port is logged)
  std::string ToString() const;  // "127.0.0.1:5514", "[::1]:5514"
};
// Parses "HOST:PORT", "[V6]:PORT". The port must be 0..65535.
Result<HostPort> ParseHostPort(std::string_view s);
// "250ms", "30s", "5m", "2h", "7d", or a bare number of seconds. Returns milliseconds.
Result<std::int64_t> ParseDurationMs(std::string_view s);
// "65536", "64KiB", "8MiB", "1GiB" (also KB/MB/GB as powers of 1000). Returns bytes.
Result<std::uint64_t> ParseBytes(std::string_view s);
// "Z", "UTC", "+09:00", "-0530". Returns minutes east of UTC.
Result<int> ParseUtcOffset(std::string_view s);

// TLS server settings (syslog over TLS, RFC 5425; HTTPS for the API). PEM files; they are read
// at startup and again on SIGHUP (a file that fails to load then keeps the previous context).
struct TlsConfig {
  std::string cert_file;  // server certificate chain (PEM). Required when TLS is on
  std::string key_file;   // its private key (PEM, unencrypted). Required when TLS is on
  std::string ca_file;    // CA certificates that client certificates must chain to. Default: ""
  // Require and verify a client certificate (mutual TLS); needs ca_file. Default: false.
  bool verify_client = false;
  // A connection that has not completed its handshake after this long is closed. Default: 10 s.
  std::int64_t handshake_timeout_ms = 10'000;
  bool enabled() const { return !cert_file.empty(); }
};

struct ListenerConfig {
  enum class Kind { kSyslogUdp, kSyslogTcp, kSyslogTls };
  // unique; the `listener` label of metrics. Default: "syslog-udp"/"syslog-tcp"/"syslog-tls"
  std::string name;
  Kind kind = Kind::kSyslogUdp;
  HostPort address{"127.0.0.1", 5514};
  // Longer messages are truncated to this size, flagged and counted. Default: 64 KiB.
  std::size_t max_message_bytes = 64 * 1024;
  // Zone applied to timestamps that carry no UTC offset (RFC 3164). Default: UTC (0).
  int utc_offset_minutes = 0;
  // "auto" detects the format per message; a parser name pins it. Default: "auto".
  std::string format = "auto";
  // TLS listeners only (kSyslogTls): certificate, key, client verification.
  TlsConfig tls;
  // TCP and TLS: connections beyond this are accepted and closed at once, and counted. Default:
  // 1024.
  std::size_t max_connections = 1024;
  // TCP: a connection silent this long is closed. 0 = never. Default: 10 minutes.
  std::int64_t idle_timeout_ms = 10 * 60 * 1000;
  // UDP: SO_RCVBUF requested from the kernel. Default: 8 MiB.
  std::size_t receive_buffer_bytes = 8 * 1024 * 1024;
};

// "syslog-udp", "syslog-tcp", "syslog-tls".
const char* DefaultListenerName(ListenerConfig::Kind kind);

struct HttpConfig {
  bool enabled = true;                            // Default: true
  HostPort address{"127.0.0.1", 8514};            // Default: 127.0.0.1:8514
  std::size_t max_body_bytes = 16 * 1024 * 1024;  // request bodies above this get 413
  TlsConfig tls;  // HTTPS when tls.cert_file is set. Default: plain HTTP
  // Paths served without a token to loopback peers (127.0.0.0/8, ::1): only "/metrics" and
  // "/healthz" may be listed, so that a Prometheus on the same host scrapes without a token.
  // Every other request needs a bearer token (docs/security.md); there is no switch to turn
  // authentication off. Default: {"/metrics", "/healthz"}.
  std::vector<std::string> open_on_loopback{"/metrics", "/healthz"};
  // Lockout after failed authentications (docs/security.md): a client address (IP, any port)
  // whose requests failed authentication (401) auth_failure_limit times within
  // auth_failure_window gets 429 with Retry-After, without its token being looked at, for
  // auth_lockout. Loopback is not exempt. Default: 10 failures in 60 s lock out for 300 s;
  // auth_failure_limit 0 disables the lockout.
  std::uint32_t auth_failure_limit = 10;
  std::int64_t auth_failure_window_ms = 60'000;
  std::int64_t auth_lockout_ms = 300'000;
};

struct StorageConfig {
  // fsync the WAL on every write batch. Off: a batch survives a process crash (kill -9) but
  // not a power loss. Default: false.
  bool sync = false;
  std::size_t write_batch_max_records = 8192;  // records per RocksDB write batch. Default: 8192
  std::size_t block_cache_bytes = 64 * 1024 * 1024;  // Default: 64 MiB
  // Compression of the store: "lz4" (fast; records compressed once, at flush), "zstd" (the
  // bottommost level in ZSTD level 1: about 20 % smaller, for a compaction that rewrites every
  // record once) or "none". Default: "lz4".
  std::string compression = "lz4";
};

struct PipelineConfig {
  // Records queued between the network and the storage writer (about 1 KiB of memory each,
  // parsed event included). Default: 65536.
  std::size_t queue_capacity = 65536;
};

// Tamper evidence (storage/): the hash chain and the signed checkpoints over it.
struct EvidenceConfig {
  // Bind every record into the SHA-256 hash chain. Off only to measure its cost. Default: true.
  bool chain = true;
  // How often a signed checkpoint (sequence, chain head, time) is made. Default: 10 s.
  std::int64_t checkpoint_interval_ms = 10'000;
  // Append-only file outside the store that receives every checkpoint.
  // Default: "" = <data_dir>/checkpoints.log.
  std::string checkpoint_file;
  // Also send every checkpoint as an RFC 5424 message to this syslog destination:
  // "udp://HOST:PORT" or "tcp://HOST:PORT". Default: "" (off).
  std::string checkpoint_syslog;
  // Ed25519 private key (PEM, mode 0600), created on first start. Default: <data_dir>/signing.key.
  std::string key_file;
};

// Retention per information class (POLICY 3.3.8). 0 = keep forever.
struct RetentionConfig {
  std::int64_t class_i_ms = 0;    // Default: 0 (forever)
  std::int64_t class_ii_ms = 0;   // Default: 0 (forever)
  std::int64_t class_iii_ms = 0;  // Default: 0 (forever)
  // How often expired records are looked for and disposed of. Default: 1 h.
  std::int64_t check_interval_ms = 3'600'000;
};

// A rule that assigns an information class to matching events (first match wins; events that
// match none keep class III unless the My Number detector marks them class I).
struct ClassRule {
  std::string name;  // for diagnostics and metrics
  InfoClass info_class = InfoClass::kII;
  std::string host;               // exact host, "" = any
  std::string app;                // exact app, "" = any
  std::string field = "message";  // event member or field key the pattern applies to
  std::string pattern;            // RE2, unanchored; "" = matches when host/app match
};

struct ClassificationConfig {
  // Detect My Number (12 digits with a valid check digit) and mark the event class I.
  // Default: true.
  bool detect_my_number = true;
  // Replace detected My Numbers in the parsed event (message and fields) with "************".
  // The raw record is never changed. Default: false.
  bool mask_my_number = false;
  std::vector<ClassRule> rules;  // Default: none
};

// A known log source, for per-source liveness metrics (a silent source must be visible). The
// source label stays bounded because sources are configured, never taken from the traffic.
struct SourceConfig {
  std::string name;     // label value of mamori_source_* metrics
  std::string host;     // matches Event::host exactly; or
  std::string network;  // CIDR that matches the sender's address ("10.1.0.0/16")
};

struct RulesConfig {
  std::vector<std::string> paths;                 // rule files or directories. Default: none
  std::size_t max_groups_per_rule = 10'000;       // correlation state bound. Default: 10000
  std::int64_t allowed_lateness_ms = 5 * 60'000;  // event-time lateness accepted. Default: 5m
};

// Incidents (incidents/, docs/incidents.md): how alerts become incidents.
struct IncidentsConfig {
  // An alert whose rule + group key's latest incident was RESOLVED less than this long ago
  // reopens it (timeline: a state change by `mamori`) instead of opening a new incident. A
  // closed incident is never reopened by an alert. Default: 0 (off: a new incident opens).
  std::int64_t reopen_window_ms = 0;
  // Evidence sequence numbers kept per incident (the first ones). Default: 1000.
  std::size_t max_evidence = 1000;
};

// One destination of incident notifications (notify/, docs/notifications.md).
struct NotificationChannelConfig {
  enum class Type { kWebhook, kSyslog, kSmtp };
  std::string name;  // unique; the `channel` label of mamori_notifications_* metrics
  Type type = Type::kWebhook;
  // webhook: http://HOST:PORT/PATH or https://...; syslog: udp://HOST:PORT or tcp://HOST:PORT;
  // smtp: smtp://HOST:PORT. Required.
  std::string url;
  // webhook: HMAC-SHA256 key; the body's signature is sent as X-Mamori-Signature. From `secret`
  // or read from `secret_file` at load. Default: "" (no signature).
  std::string secret;
  // Only incidents of at least this severity (0 info, 1 low, 2 medium, 3 high, 4 critical).
  // Default: 0 (all).
  int min_severity = 0;
  // Only incidents with at least one of these rule tags. Default: none (all incidents).
  std::vector<std::string> tags;
  // smtp: envelope sender and recipients (required for smtp).
  std::string mail_from;
  std::vector<std::string> mail_to;
  // smtp: upgrade with STARTTLS (the server must offer it). Default: false.
  bool starttls = false;
  // smtp: AUTH PLAIN credentials (only over STARTTLS). `password` may come from
  // `password_file`. Default: "" (no AUTH).
  std::string username;
  std::string password;
  // TLS (https webhook, STARTTLS): CA bundle to verify the server with. Default: "" (the
  // system's trust store).
  std::string ca_file;
  // One delivery attempt (connect, send, reply) may take this long. Default: 10 s.
  std::int64_t timeout_ms = 10'000;
};

struct NotificationsConfig {
  std::vector<NotificationChannelConfig> channels;  // Default: none (notifications off)
  // Retry delays: the first retry after retry_initial, doubling up to retry_max, each less up
  // to `retry_jitter` percent at random. Default: 1 s, 5 min, 20 %.
  std::int64_t retry_initial_ms = 1'000;
  std::int64_t retry_max_ms = 5 * 60'000;
  int retry_jitter_percent = 20;
  // A notification not delivered this long after it was raised is given up (logged, counted
  // in mamori_notifications_expired_total). Default: 7 d.
  std::int64_t max_age_ms = 7 * 86'400'000LL;
  // Updates and reopens of one rule + group key's incident notify at most once per window (the
  // creation of an incident always notifies). Default: 15 min.
  std::int64_t throttle_ms = 15 * 60'000;
  // Base URL of mamori's API put into messages as a link to the incident
  // ("https://mamori.example:8514"). Default: "" (no link).
  std::string base_url;
};

struct Config {
  std::string data_dir = "mamori-data";   // relative paths are relative to the working directory
  std::vector<ListenerConfig> listeners;  // DefaultConfig(): UDP and TCP on 127.0.0.1:5514
  HttpConfig http;
  StorageConfig storage;
  PipelineConfig pipeline;
  EvidenceConfig evidence;
  RetentionConfig retention;
  ClassificationConfig classification;
  std::vector<SourceConfig> sources;
  RulesConfig rules;
  IncidentsConfig incidents;
  NotificationsConfig notifications;
  std::string log_level = "info";  // "debug", "info", "warn", "error"
};

// The embedded default.
Config DefaultConfig();
// Parses YAML text. Keys that are absent keep their default; `listeners`, when present, replaces
// the default list. Unknown keys and bad values are errors that name the key.
Result<Config> LoadConfigString(std::string_view yaml);
Result<Config> LoadConfigFile(const std::string& path);
// Cross-field checks (unique listener names, non-zero sizes...). LoadConfig* call it; call it
// again after applying command-line overrides.
Status ValidateConfig(const Config& config);

}  // namespace mamori
