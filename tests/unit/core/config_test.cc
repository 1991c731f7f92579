#include "mamori/core/config.h"

#include <gtest/gtest.h>

namespace mamori {
namespace {

TEST(ConfigTest, EmptyYamlIsTheEmbeddedDefault) {
  auto c = LoadConfigString("");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->listeners.size(), 2u);
  EXPECT_EQ(c->listeners[0].address.ToString(), "127.0.0.1:5514");
  EXPECT_EQ(c->http.address.ToString(), "127.0.0.1:8514");
  EXPECT_EQ(c->data_dir, "mamori-data");
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
storage: {sync: true, write_batch_max: 100}
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
