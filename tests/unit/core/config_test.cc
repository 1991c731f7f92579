#include "mamori/core/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <utility>
#include <vector>

namespace mamori {
namespace {

TEST(ConfigTest, EmptyYamlIsTheEmbeddedDefault) {
  auto c = LoadConfigString("");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->listeners.size(), 2u);
  EXPECT_EQ(c->listeners[0].address.ToString(), "127.0.0.1:5514");
  EXPECT_EQ(c->http.address.ToString(), "127.0.0.1:8514");
  EXPECT_EQ(c->data_dir, "mamori-data");
  EXPECT_EQ(c->storage.compression, "lz4");
}

TEST(ConfigTest, FullConfigLoads) {
  auto c = LoadConfigString(R"(
data_dir: /var/lib/mamori
log_level: debug
listeners:
  - name: fw
    type: syslog_udp
    address: "[::1]:0"
    timezone: "+09:00"
    max_message_size: 8KiB
  - type: syslog_tcp
    address: 0.0.0.0:514
    idle_timeout: 5m
    max_connections: 10
http: {address: "127.0.0.1:0", enabled: true}
storage: {sync: true, write_batch_max: 100, compression: zstd}
pipeline: {queue_capacity: 1000}
)");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->listeners.size(), 2u);
  EXPECT_EQ(c->listeners[0].name, "fw");
  EXPECT_EQ(c->listeners[0].address.host, "::1");
  EXPECT_EQ(c->listeners[0].utc_offset_minutes, 540);
  EXPECT_EQ(c->listeners[0].max_message_bytes, 8192u);
  EXPECT_EQ(c->listeners[1].name, "syslog-tcp");
  EXPECT_EQ(c->listeners[1].idle_timeout_ms, 300000);
  EXPECT_EQ(c->listeners[1].max_connections, 10u);
  EXPECT_TRUE(c->storage.sync);
  EXPECT_EQ(c->storage.compression, "zstd");
  EXPECT_EQ(c->pipeline.queue_capacity, 1000u);
}

struct BadCase {
  const char* yaml;
  const char* key_in_message;
};

TEST(ConfigTest, BadValuesNameTheKey) {
  const BadCase cases[] = {
      {"bogus: 1", "bogus: unknown key"},
      {"listeners: [{type: syslog_udp, address: '127.0.0.1:5514', colour: red}]",
       "listeners[0].colour"},
      {"listeners: [{type: carrier_pigeon, address: '1.2.3.4:5'}]", "listeners[0].type"},
      {"listeners: [{type: syslog_udp, address: 'nope'}]", "listeners[0].address"},
      {"listeners: [{type: syslog_udp, address: '1.2.3.4:70000'}]", "listeners[0].address"},
      {"listeners: [{type: syslog_udp}]", "listeners[0].address: required"},
      {"listeners: [{type: syslog_tcp, address: 'a:1', idle_timeout: 5 weeks}]",
       "listeners[0].idle_timeout"},
      {"listeners: [{type: syslog_tcp, address: 'a:1', timezone: Mars}]", "listeners[0].timezone"},
      {"listeners: [{type: syslog_tcp, address: 'a:1'}, {type: syslog_tcp, address: 'a:2'}]",
       "duplicate listener name"},
      {"storage: {sync: maybe}", "storage.sync"},
      {"storage: {compression: gzip}", "storage.compression: expected lz4, zstd or none"},
      {"pipeline: {queue_capacity: -5}", "pipeline.queue_capacity"},
      {"log_level: chatty", "log_level"},
      {"http: [1, 2]", "http: expected a mapping"},
      {"listeners: {a: 1}", "listeners: expected a list"},
      {"data_dir: [unclosed", "YAML error at line 1"},
  };
  for (const auto& bc : cases) {
    auto c = LoadConfigString(bc.yaml);
    ASSERT_FALSE(c.ok()) << bc.yaml;
    EXPECT_NE(c.status().message().find(bc.key_in_message), std::string::npos)
        << bc.yaml << " -> " << c.status().ToString();
  }
}

TEST(ConfigTest, Parsers) {
  EXPECT_EQ(*ParseDurationMs("250ms"), 250);
  EXPECT_EQ(*ParseDurationMs("2h"), 7'200'000);
  EXPECT_EQ(*ParseDurationMs("7d"), 604'800'000);
  EXPECT_FALSE(ParseDurationMs("").ok());
  EXPECT_FALSE(ParseDurationMs("s").ok());
  EXPECT_EQ(*ParseBytes("64KiB"), 65536u);
  EXPECT_FALSE(ParseBytes("1.5MiB").ok());
  EXPECT_EQ(*ParseUtcOffset("-05:30"), -330);
  EXPECT_EQ(*ParseUtcOffset("+0900"), 540);
  EXPECT_FALSE(ParseUtcOffset("+9").ok());
  auto hp = ParseHostPort("[::1]:0");
  ASSERT_TRUE(hp.ok());
  EXPECT_EQ(hp->ToString(), "[::1]:0");
  EXPECT_FALSE(ParseHostPort("::1:5").ok());
  EXPECT_FALSE(ParseHostPort(":5").ok());
}

TEST(ConfigTest, MissingFileIsIOError) {
  auto c = LoadConfigFile("/nonexistent/mamori.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Status::Code::kIOError);
}

}  // namespace
}  // namespace mamori

namespace mamori {
namespace {

// The shipped example must stay loadable: operators copy it.
TEST(ConfigTest, ShippedExampleConfigLoads) {
  auto c = LoadConfigFile(MAMORI_SOURCE_DIR "/deploy/mamori.example.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->listeners.size(), 3u);
  EXPECT_EQ(c->listeners[2].name, "firewall");
  EXPECT_EQ(c->listeners[0].utc_offset_minutes, 540);
  EXPECT_TRUE(c->storage.sync);
}

}  // namespace
}  // namespace mamori

namespace mamori {
namespace {

TEST(ConfigTest, EvidenceRetentionClassificationSourcesRules) {
  auto c = LoadConfigString(R"(
evidence:
  chain: false
  checkpoint_interval: 2s
  checkpoint_file: /var/log/mamori/checkpoints.log
  checkpoint_syslog: "udp://127.0.0.1:6514"
retention: {class_I: 30d, class_III: 365d, check_interval: 10m}
classification:
  my_number: {detect: true, mask: true}
  rules:
    - {name: hr, class: I, app: jinji}
    - {class: II, field: source.ip, pattern: '^10\.'}
sources:
  - {name: web-1, host: web-1}
  - {name: dmz, network: 192.0.2.0/24}
rules:
  paths: [rules/default, /etc/mamori/rules.d]
  max_groups_per_rule: 500
  allowed_lateness: 1m
incidents:
  reopen_window: 2h
  max_evidence: 50
)");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_FALSE(c->evidence.chain);
  EXPECT_EQ(c->evidence.checkpoint_interval_ms, 2000);
  EXPECT_EQ(c->evidence.checkpoint_syslog, "udp://127.0.0.1:6514");
  EXPECT_EQ(c->retention.class_i_ms, 30LL * 86'400'000);
  EXPECT_EQ(c->retention.class_ii_ms, 0);
  EXPECT_EQ(c->retention.check_interval_ms, 600'000);
  EXPECT_TRUE(c->classification.mask_my_number);
  ASSERT_EQ(c->classification.rules.size(), 2u);
  EXPECT_EQ(c->classification.rules[0].info_class, InfoClass::kI);
  EXPECT_EQ(c->classification.rules[1].name, "rule1");
  EXPECT_EQ(c->classification.rules[1].field, "source.ip");
  ASSERT_EQ(c->sources.size(), 2u);
  EXPECT_EQ(c->sources[1].network, "192.0.2.0/24");
  ASSERT_EQ(c->rules.paths.size(), 2u);
  EXPECT_EQ(c->rules.max_groups_per_rule, 500u);
  EXPECT_EQ(c->rules.allowed_lateness_ms, 60'000);
  EXPECT_EQ(c->incidents.reopen_window_ms, 2 * 3'600'000);
  EXPECT_EQ(c->incidents.max_evidence, 50u);
}

TEST(ConfigTest, NewSectionsNameTheKeyOnError) {
  const BadCase cases[] = {
      {"evidence: {checkpoint_interval: 1ms}", "evidence.checkpoint_interval"},
      {"evidence: {checkpoint_syslog: 'http://x:1'}", "evidence.checkpoint_syslog"},
      {"evidence: {sign: yes}", "evidence.sign: unknown key"},
      {"incidents: {reopen_window: soon}", "incidents.reopen_window"},
      {"incidents: {max_evidence: 0}", "incidents.max_evidence"},
      {"incidents: {dedup: 5m}", "incidents.dedup: unknown key"},
      {"retention: {class_IV: 1d}", "retention.class_IV"},
      {"retention: {class_I: forever}", "retention.class_I"},
      {"classification: {rules: [{class: IV, app: x}]}", "classification.rules[0].class"},
      {"classification: {rules: [{class: I}]}", "classification.rules[0]: needs"},
      {"classification: {my_number: {detect: sometimes}}", "classification.my_number.detect"},
      {"sources: [{name: a, host: h, network: 10.0.0.0/8}]", "sources[0]: give exactly one"},
      {"sources: [{name: a, network: 10.0.0.0}]", "sources[0].network"},
      {"sources: [{name: a, network: 10.0.0.300/8}]", "sources[0].network"},
      {"sources: [{name: a, network: 10.0.0.0/33}]", "sources[0].network"},
      {"sources: [{name: a, network: '::1/129'}]", "sources[0].network"},
      {"sources: [{name: a, host: x}, {name: a, host: y}]", "sources[1].name: duplicate"},
      {"rules: {paths: rules/default}", "rules.paths: expected a list"},
      {"rules: {max_groups_per_rule: 0}", "rules.max_groups_per_rule"},
  };
  for (const auto& bc : cases) {
    auto c = LoadConfigString(bc.yaml);
    ASSERT_FALSE(c.ok()) << bc.yaml;
    EXPECT_NE(c.status().message().find(bc.key_in_message), std::string::npos)
        << bc.yaml << " -> " << c.status().ToString();
  }
}

TEST(ConfigTest, TlsListenerAndHttps) {
  auto c = LoadConfigString(R"(
listeners:
  - type: syslog_tls
    address: 0.0.0.0:6514
    tls:
      cert_file: /etc/mamori/tls/server.pem
      key_file: /etc/mamori/tls/server.key
      ca_file: /etc/mamori/tls/ca.pem
      verify_client: true
      handshake_timeout: 5s
http:
  tls:
    cert_file: /etc/mamori/tls/api.pem
    key_file: /etc/mamori/tls/api.key
)");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->listeners.size(), 1u);
  const auto& l = c->listeners[0];
  EXPECT_EQ(l.kind, ListenerConfig::Kind::kSyslogTls);
  EXPECT_EQ(l.name, "syslog-tls");
  EXPECT_EQ(l.tls.cert_file, "/etc/mamori/tls/server.pem");
  EXPECT_EQ(l.tls.key_file, "/etc/mamori/tls/server.key");
  EXPECT_EQ(l.tls.ca_file, "/etc/mamori/tls/ca.pem");
  EXPECT_TRUE(l.tls.verify_client);
  EXPECT_EQ(l.tls.handshake_timeout_ms, 5000);
  EXPECT_TRUE(c->http.tls.enabled());
  EXPECT_EQ(c->http.tls.key_file, "/etc/mamori/tls/api.key");
  EXPECT_FALSE(DefaultConfig().http.tls.enabled());
}

TEST(ConfigTest, TlsErrorsNameTheKey) {
  const BadCase cases[] = {
      {"listeners: [{type: syslog_tls, address: '127.0.0.1:6514'}]", "listeners[0].tls: required"},
      {"listeners: [{type: syslog_tls, address: '127.0.0.1:6514', tls: {key_file: k}}]",
       "listeners[0].tls.cert_file: required"},
      {"listeners: [{type: syslog_tls, address: '127.0.0.1:6514', tls: {cert_file: c}}]",
       "listeners[0].tls.key_file: required"},
      {"listeners: [{type: syslog_tls, address: '127.0.0.1:6514', "
       "tls: {cert_file: c, key_file: k, verify_client: true}}]",
       "listeners[0].tls.ca_file: required when verify_client"},
      {"listeners: [{type: syslog_tls, address: '127.0.0.1:6514', "
       "tls: {cert_file: c, key_file: k, verify: true}}]",
       "listeners[0].tls.verify: unknown key"},
      {"listeners: [{type: syslog_tls, address: '127.0.0.1:6514', "
       "tls: {cert_file: c, key_file: k, handshake_timeout: 1ms}}]",
       "listeners[0].tls.handshake_timeout"},
      {"listeners: [{type: syslog_tcp, address: '127.0.0.1:6514', tls: {cert_file: c}}]",
       "listeners[0].tls: only for type syslog_tls"},
      {"listeners: [{type: syslog_ssl, address: '127.0.0.1:6514'}]", "syslog_tls"},
      {"http: {tls: {cert_file: c}}", "http.tls.key_file: required"},
      {"http: {tls: {key_file: k}}", "http.tls.cert_file: required"},
  };
  for (const auto& bc : cases) {
    auto c = LoadConfigString(bc.yaml);
    ASSERT_FALSE(c.ok()) << bc.yaml;
    EXPECT_NE(c.status().message().find(bc.key_in_message), std::string::npos)
        << bc.yaml << " -> " << c.status().ToString();
  }
}

TEST(ConfigTest, NotificationsLoad) {
  char tmpl[] = "/tmp/mamori-config-secret-XXXXXX";
  int fd = mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "s3cret\n", 7), 7);
  close(fd);
  auto c = LoadConfigString(std::string(R"(
notifications:
  retry_initial: 250ms
  retry_max: 1m
  retry_jitter: 10
  max_age: 2d
  throttle: 5m
  base_url: https://mamori.example:8514
  channels:
    - name: hook
      type: webhook
      url: https://hooks.example:443/mamori
      secret_file: )") + tmpl +
                            R"(
      min_severity: high
      tags: [policy.6.6, attack.t1110]
      timeout: 5s
    - name: siem
      type: syslog
      url: tcp://[::1]:6514
    - name: mail
      type: smtp
      url: smtp://mail.example:587
      from: mamori@city.example
      to: csirt@city.example
      starttls: true
      username: mamori
      password: pw
)");
  unlink(tmpl);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const auto& n = c->notifications;
  EXPECT_EQ(n.retry_initial_ms, 250);
  EXPECT_EQ(n.retry_max_ms, 60'000);
  EXPECT_EQ(n.retry_jitter_percent, 10);
  EXPECT_EQ(n.max_age_ms, 2 * 86'400'000LL);
  EXPECT_EQ(n.throttle_ms, 300'000);
  ASSERT_EQ(n.channels.size(), 3u);
  EXPECT_EQ(n.channels[0].type, NotificationChannelConfig::Type::kWebhook);
  EXPECT_EQ(n.channels[0].secret, "s3cret");  // trailing newline of the file dropped
  EXPECT_EQ(n.channels[0].min_severity, 3);
  EXPECT_EQ(n.channels[0].tags, (std::vector<std::string>{"policy.6.6", "attack.t1110"}));
  EXPECT_EQ(n.channels[0].timeout_ms, 5000);
  EXPECT_EQ(n.channels[1].type, NotificationChannelConfig::Type::kSyslog);
  EXPECT_EQ(n.channels[1].min_severity, 0);
  EXPECT_EQ(n.channels[2].mail_to, std::vector<std::string>{"csirt@city.example"});
  EXPECT_TRUE(n.channels[2].starttls);
  EXPECT_EQ(n.channels[2].password, "pw");
  // Defaults: off, 1 s to 5 min, 7 days, 15 min.
  NotificationsConfig d;
  EXPECT_TRUE(d.channels.empty());
  EXPECT_EQ(d.retry_initial_ms, 1000);
  EXPECT_EQ(d.retry_max_ms, 300'000);
  EXPECT_EQ(d.max_age_ms, 7 * 86'400'000LL);
  EXPECT_EQ(d.throttle_ms, 900'000);
}

TEST(ConfigTest, BadNotificationsNameTheKey) {
  const std::string hook = "{name: h, type: webhook, url: 'http://127.0.0.1:8080/x'";
  const std::string mail =
      "{name: m, type: smtp, url: 'smtp://127.0.0.1:25', from: a@b.example, to: c@d.example";
  const std::pair<std::string, const char*> cases[] = {
      {"notifications: []", "notifications: expected a mapping"},
      {"notifications: {channel: []}", "notifications.channel: unknown key"},
      {"notifications: {channels: {a: 1}}", "notifications.channels: expected a list"},
      {"notifications: {channels: [{type: webhook, url: 'http://a:1/'}]}",
       "notifications.channels[0].name: required"},
      {"notifications: {channels: [{name: x, url: 'http://a:1/'}]}",
       "notifications.channels[0].type: required"},
      {"notifications: {channels: [{name: x, type: pager, url: 'http://a:1/'}]}",
       "notifications.channels[0].type: expected webhook, syslog or smtp"},
      {"notifications: {channels: [{name: x, type: webhook, url: 'ftp://a:1/'}]}",
       "notifications.channels[0].url"},
      {"notifications: {channels: [{name: x, type: webhook, url: 'http://a/'}]}",
       "notifications.channels[0].url"},
      {"notifications: {channels: [{name: x, type: webhook, url: 'http://a:0/'}]}",
       "notifications.channels[0].url"},
      {"notifications: {channels: [{name: x, type: syslog, url: 'tcp://a:1/path'}]}",
       "notifications.channels[0].url"},
      {"notifications: {channels: [{name: x, type: syslog, url: 'http://a:1'}]}",
       "notifications.channels[0].url: expected udp://"},
      {"notifications: {channels: [{name: x, type: syslog}]}", "notifications.channels[0].url"},
      {"notifications: {channels: [" + hook + ", min_severity: urgent}]}",
       "notifications.channels[0].min_severity"},
      {"notifications: {channels: [" + hook + ", tags: policy}]}",
       "notifications.channels[0].tags: expected a list"},
      {"notifications: {channels: [" + hook + ", tags: [[a]]}]}",
       "notifications.channels[0].tags[0]"},
      {"notifications: {channels: [" + hook + ", secret: a, secret_file: /etc/hostname}]}",
       "notifications.channels[0].secret_file: give secret or secret_file"},
      {"notifications: {channels: [" + hook + ", secret_file: /nonexistent/secret}]}",
       "notifications.channels[0].secret_file: cannot read"},
      {"notifications: {channels: [" + hook + ", timeout: 1ms}]}",
       "notifications.channels[0].timeout"},
      {"notifications: {channels: [" + hook + ", from: a@b.example}]}",
       "notifications.channels[0].from: only for smtp"},
      {"notifications: {channels: [" + hook + "}, " + hook + "}]}",
       "notifications.channels[1].name: duplicate"},
      {"notifications: {channels: [{name: s, type: syslog, url: 'udp://a:1', secret: x}]}",
       "notifications.channels[0].secret: only webhook"},
      {"notifications: {channels: [{name: m, type: smtp, url: 'smtp://a:25', to: c@d.e}]}",
       "notifications.channels[0].from"},
      {"notifications: {channels: [{name: m, type: smtp, url: 'smtp://a:25', from: a@b.c}]}",
       "notifications.channels[0].to: required"},
      {"notifications: {channels: [{name: m, type: smtp, url: 'smtp://a:25', from: a@b.c, "
       "to: ['x <y@z>']}]}",
       "notifications.channels[0].to: expected a mail address"},
      {"notifications: {channels: [" + mail + ", username: u, password: p}]}",
       "notifications.channels[0].username: credentials are only sent over STARTTLS"},
      {"notifications: {channels: [" + mail + ", starttls: true, username: u}]}",
       "notifications.channels[0].password: give both"},
      {"notifications: {channels: [" + mail + ", starttls: perhaps}]}",
       "notifications.channels[0].starttls"},
      {"notifications: {retry_initial: soon}", "notifications.retry_initial"},
      {"notifications: {retry_initial: 1ms}", "notifications.retry_initial: must be at least"},
      {"notifications: {retry_initial: 10s, retry_max: 1s}", "notifications.retry_max"},
      {"notifications: {retry_jitter: 150}", "notifications.retry_jitter"},
      {"notifications: {max_age: 0}", "notifications.max_age"},
      {"notifications: {throttle: -1}", "notifications.throttle"},
      {"notifications: {base_url: 'mamori:8514'}", "notifications.base_url"},
  };
  for (const auto& [yaml, key] : cases) {
    auto c = LoadConfigString(yaml);
    ASSERT_FALSE(c.ok()) << yaml;
    EXPECT_NE(c.status().message().find(key), std::string::npos)
        << yaml << " -> " << c.status().ToString();
  }
}

}  // namespace
}  // namespace mamori

namespace mamori {
namespace {

// http.open_on_loopback: only /metrics and /healthz may be opened; [] closes both.
TEST(ConfigTest, OpenOnLoopback) {
  auto d = LoadConfigString("");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->http.open_on_loopback, (std::vector<std::string>{"/metrics", "/healthz"}));
  auto none = LoadConfigString("http:\n  open_on_loopback: []\n");
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->http.open_on_loopback.empty());
  auto one = LoadConfigString("http:\n  open_on_loopback: [/metrics]\n");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->http.open_on_loopback, (std::vector<std::string>{"/metrics"}));
  for (const char* bad :
       {"http:\n  open_on_loopback: [/api/v1/events]\n", "http:\n  open_on_loopback: /metrics\n",
        "http:\n  open_on_loopback: [[/metrics]]\n", "http:\n  open_on_loopback: [\"\"]\n"}) {
    auto c = LoadConfigString(bad);
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_NE(c.status().message().find("open_on_loopback"), std::string::npos)
        << c.status().message();
  }
}

// http.auth_failure_limit / auth_failure_window / auth_lockout: the lockout after failed
// authentications; 0 disables it; garbage, negative and zero durations are refused by name.
TEST(ConfigTest, AuthLockout) {
  auto d = LoadConfigString("");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->http.auth_failure_limit, 10u);
  EXPECT_EQ(d->http.auth_failure_window_ms, 60'000);
  EXPECT_EQ(d->http.auth_lockout_ms, 300'000);
  auto c = LoadConfigString(
      "http:\n  auth_failure_limit: 3\n  auth_failure_window: 2m\n  auth_lockout: 1500ms\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->http.auth_failure_limit, 3u);
  EXPECT_EQ(c->http.auth_failure_window_ms, 120'000);
  EXPECT_EQ(c->http.auth_lockout_ms, 1'500);
  auto off = LoadConfigString("http:\n  auth_failure_limit: 0\n  auth_lockout: 0s\n");
  ASSERT_TRUE(off.ok()) << off.status().ToString();
  EXPECT_EQ(off->http.auth_failure_limit, 0u);
  for (auto [bad, key] : std::vector<std::pair<const char*, const char*>>{
           {"http:\n  auth_failure_limit: -1\n", "http.auth_failure_limit"},
           {"http:\n  auth_failure_limit: ten\n", "http.auth_failure_limit"},
           {"http:\n  auth_failure_limit: [3]\n", "http.auth_failure_limit"},
           {"http:\n  auth_failure_window: -5s\n", "http.auth_failure_window"},
           {"http:\n  auth_failure_window: 5 minutes\n", "http.auth_failure_window"},
           {"http:\n  auth_failure_window: 0s\n", "http.auth_failure_window"},
           {"http:\n  auth_lockout: soon\n", "http.auth_lockout"},
           {"http:\n  auth_lockout: 0\n", "http.auth_lockout"},
           {"http:\n  auth_lockuot: 5m\n", "auth_lockuot"}}) {
    auto r = LoadConfigString(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find(key), std::string::npos) << r.status().message();
  }
}

}  // namespace
}  // namespace mamori
