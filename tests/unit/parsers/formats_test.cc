// The body parsers through Parse(): each format's fields, dispatch (app name, content, pinned
// format), and the promise of the field dictionary: one rule works across vendors.
#include <gtest/gtest.h>

#include <string>

#include "mamori/parsers/parser.h"

namespace mamori::parsers {
namespace {

constexpr std::int64_t kReceived = 1'700'000'000'000'000'000;

Event P(const std::string& bytes, std::string_view format = "auto") {
  ParseContext ctx;
  ctx.format = format;
  RawRecord raw;
  raw.bytes = bytes;
  raw.received_ns = kReceived;
  return Parse(raw, ctx);
}

std::string F(const Event& e, std::string_view key) {
  const std::string* v = e.Get(key);
  return v ? *v : "<none>";
}

TEST(FormatsTest, CefAloneAndInSyslog) {
  Event e =
      P("CEF:0|Elastic|Vaporware|1.0.0-alpha|18|Web request|low|eventId=3457 "
        "requestMethod=POST src=1.128.3.4 spt=33876 dst=192.168.10.1 dpt=443 "
        "request=https://www.example.com/cart msg=a\\=b c suser=bob proto=TCP");
  EXPECT_EQ(e.format, "cef");
  EXPECT_EQ(F(e, "source.ip"), "1.128.3.4");
  EXPECT_EQ(F(e, "destination.port"), "443");
  EXPECT_EQ(F(e, "url.original"), "https://www.example.com/cart");
  EXPECT_EQ(F(e, "http.request.method"), "POST");
  EXPECT_EQ(F(e, "cef.extensions.message"), "a=b c");
  EXPECT_EQ(F(e, "user.name"), "bob");
  EXPECT_EQ(F(e, "network.transport"), "tcp");
  EXPECT_EQ(F(e, "observer.vendor"), "Elastic");
  EXPECT_EQ(F(e, "log.syslog.format"), "<none>");
  Event s = P("<134>Feb 12 10:00:00 fw1 CEF:0|V|P|1|100|Deny|5|src=10.0.0.1 act=blocked");
  EXPECT_EQ(s.format, "cef");
  EXPECT_EQ(s.host, "fw1");
  EXPECT_EQ(F(s, "log.syslog.format"), "rfc3164");
  EXPECT_EQ(F(s, "cef.device.event_class_id"), "100");
  Event h = P("CEF:0|a\\|b|P|1|id|name|3|");
  EXPECT_EQ(F(h, "cef.device.vendor"), "a|b");
}

TEST(FormatsTest, Leef1And2) {
  Event e =
      P("LEEF:1.0|Microsoft|MSExchange|4.0 SP1|15345|src=10.50.1.1\tdst=2.10.20.20\t"
        "spt=1200\tusrName=joe");
  EXPECT_EQ(e.format, "leef");
  EXPECT_EQ(F(e, "source.ip"), "10.50.1.1");
  EXPECT_EQ(F(e, "user.name"), "joe");
  EXPECT_EQ(F(e, "leef.event_id"), "15345");
  Event t =
      P("<13>Jan 18 11:07:53 host LEEF:2.0|Lancope|StealthWatch|1.0|41|^|"
        "src=10.0.1.8^dst=10.0.0.5^srcPort=1000^dstPort=22^proto=6");
  EXPECT_EQ(t.format, "leef");
  EXPECT_EQ(F(t, "destination.ip"), "10.0.0.5");
  EXPECT_EQ(F(t, "destination.port"), "22");
  EXPECT_EQ(F(t, "network.transport"), "tcp");
  Event x = P("LEEF:2.0|V|P|1|9|x09|src=1.2.3.4\tdst=5.6.7.8");
  EXPECT_EQ(F(x, "destination.ip"), "5.6.7.8");
}

// A firewall deny from every vendor gives the same normalized fields.
TEST(FormatsTest, FirewallDenyAcrossVendors) {
  const std::string lines[] = {
      "Jan  8 03:37:09 h kernel: iptables DROP_INPUT: IN=eth0 OUT= SRC=203.0.113.36 "
      "DST=172.16.54.114 LEN=52 PROTO=TCP SPT=17805 DPT=445 WINDOW=8192 SYN URGP=0",
      "<166>Apr 15 2013 09:36:50: %ASA-4-106023: Deny tcp src dmz:203.0.113.36/17805 dst "
      "outside:172.16.54.114/445 by access-group \"acl_dmz\" [0xe3aab522, 0x0]",
      "<189>date=2020-04-23 time=01:16:08 devname=\"fw\" devid=\"FG1\" logid=\"0000000013\" "
      "type=\"traffic\" subtype=\"forward\" srcip=203.0.113.36 srcport=17805 "
      "dstip=172.16.54.114 dstport=445 proto=6 action=\"deny\" policyid=3",
      "<14>Nov  8 12:37:34 pfSense filterlog: 5,,,1000102433,em0,match,block,in,4,0x0,,128,"
      "24677,0,none,6,tcp,52,203.0.113.36,172.16.54.114,17805,445,0,S,1,,8192,,mss",
      "<14>Apr 30 06:00:00 pa 1,2020/02/09 00:00:00,001,TRAFFIC,drop,0,2020/02/09 00:00:00,"
      "203.0.113.36,172.16.54.114,0.0.0.0,0.0.0.0,deny-all,,,not-applicable,vsys1,untrust,"
      "trust,ethernet1/1,,fwd,2020/02/09 00:00:00,0,1,17805,445,0,0,0x0,tcp,deny,60",
      "<134>1 2019-05-15T16:25:50Z fw CheckPoint 19710 - [action:\"Drop\"; src:\"203.0.113.36\"; "
      "dst:\"172.16.54.114\"; s_port:\"17805\"; service:\"445\"; proto:\"6\"]",
  };
  const char* formats[] = {"iptables", "cisco_asa", "fortigate", "pfsense", "panos", "checkpoint"};
  for (int i = 0; i < 6; ++i) {
    Event e = P(lines[i]);
    SCOPED_TRACE(lines[i]);
    EXPECT_EQ(e.format, formats[i]);
    EXPECT_EQ(F(e, "event.action"), "deny");
    EXPECT_EQ(F(e, "event.outcome"), "failure");
    EXPECT_EQ(F(e, "source.ip"), "203.0.113.36");
    EXPECT_EQ(F(e, "destination.ip"), "172.16.54.114");
    EXPECT_EQ(F(e, "destination.port"), "445");
    EXPECT_EQ(F(e, "network.transport"), "tcp");
  }
}

TEST(FormatsTest, CiscoAsaConnectionsAndAuth) {
  Event b =
      P("%ASA-6-302013: Built outbound TCP connection 123 for outside:1.2.3.4/80 "
        "(1.2.3.4/80) to inside:10.0.0.1/1234 (5.6.7.8/1234)");
  EXPECT_EQ(b.format, "cisco_asa");
  EXPECT_EQ(F(b, "source.ip"), "10.0.0.1");  // outbound: the inside host initiated
  EXPECT_EQ(F(b, "destination.ip"), "1.2.3.4");
  EXPECT_EQ(F(b, "event.action"), "allow");
  EXPECT_EQ(F(b, "cisco.asa.connection_id"), "123");
  Event t =
      P("%ASA-6-302014: Teardown TCP connection 123 for outside:1.2.3.4/80 to "
        "inside:10.0.0.1/1234 duration 0:00:01 bytes 100 TCP FINs");
  EXPECT_EQ(F(t, "event.action"), "teardown");
  EXPECT_EQ(F(t, "source.ip"), "1.2.3.4");
  Event a =
      P("%ASA-6-113005: AAA user authentication Rejected : reason = AAA failure : "
        "server = 10.1.1.1 : user = alice : user IP = 192.168.0.9");
  EXPECT_EQ(F(a, "event.outcome"), "failure");
  EXPECT_EQ(F(a, "user.name"), "alice");
  EXPECT_EQ(F(a, "source.ip"), "192.168.0.9");
  Event acl =
      P("%ASA-5-106100: access-list acl_in permitted tcp inside/10.1.2.16(2241) -> "
        "outside/192.0.0.89(2000) hit-cnt 1 first hit [0x71a87d94, 0x0]");
  EXPECT_EQ(F(acl, "event.action"), "allow");
  EXPECT_EQ(F(acl, "source.port"), "2241");
  EXPECT_EQ(F(acl, "destination.ip"), "192.0.0.89");
  EXPECT_EQ(F(acl, "rule.name"), "acl_in");
}

TEST(FormatsTest, LinuxAuth) {
  Event a =
      P("<38>Feb 23 00:13:35 h sshd[7483]: Accepted password for vagrant from "
        "192.168.33.1 port 58803 ssh2");
  EXPECT_EQ(a.format, "sshd");
  EXPECT_EQ(F(a, "user.name"), "vagrant");
  EXPECT_EQ(F(a, "source.ip"), "192.168.33.1");
  EXPECT_EQ(F(a, "source.port"), "58803");
  EXPECT_EQ(F(a, "event.action"), "login");
  EXPECT_EQ(F(a, "event.outcome"), "success");
  Event f =
      P("Dec 10 11:04:45 LabSZ sshd[25539]: Failed password for invalid user admin "
        "from 103.99.0.122 port 52683 ssh2");
  EXPECT_EQ(F(f, "user.name"), "admin");
  EXPECT_EQ(F(f, "event.outcome"), "failure");
  Event pam =
      P("Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; "
        "logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=218.188.2.4  user=root");
  EXPECT_EQ(pam.format, "sshd");
  EXPECT_EQ(F(pam, "source.ip"), "218.188.2.4");
  EXPECT_EQ(F(pam, "user.name"), "root");
  EXPECT_EQ(F(pam, "event.outcome"), "failure");
  Event s =
      P("Apr 27 15:22:23 niban sudo:     dcid : TTY=pts/4 ; PWD=/home/dcid ; USER=root ; "
        "COMMAND=/usr/bin/tail /var/log/x");
  EXPECT_EQ(s.format, "sudo");
  EXPECT_EQ(F(s, "user.name"), "dcid");
  EXPECT_EQ(F(s, "user.target.name"), "root");
  EXPECT_EQ(F(s, "process.command_line"), "/usr/bin/tail /var/log/x");
  Event sf =
      P("Jun 25 15:51:13 p sudo:     mike : 3 incorrect password attempts ; TTY=pts/0 ; "
        "PWD=/root ; USER=root ; COMMAND=/bin/ls");
  EXPECT_EQ(F(sf, "event.outcome"), "failure");
  Event su = P("Apr 27 15:22:23 niban su[234]: BAD SU ger to fwmaster on /dev/ttyp0");
  EXPECT_EQ(su.format, "su");
  EXPECT_EQ(F(su, "user.name"), "ger");
  EXPECT_EQ(F(su, "user.target.name"), "fwmaster");
  EXPECT_EQ(F(su, "event.outcome"), "failure");
  Event ua =
      P("<86>Mar  1 10:00:00 h useradd[99]: new user: name=bob, UID=1001, GID=1001, "
        "home=/home/bob, shell=/bin/bash");
  EXPECT_EQ(ua.format, "linux_user");
  EXPECT_EQ(F(ua, "user.target.name"), "bob");
  EXPECT_EQ(F(ua, "event.action"), "user-created");
  Event g = P("<86>Mar  1 10:00:00 h usermod[99]: add 'bob' to group 'wheel'");
  EXPECT_EQ(F(g, "group.name"), "wheel");
  EXPECT_EQ(F(g, "event.action"), "user-added-to-group");
  Event au =
      P("type=USER_LOGIN msg=audit(1700000000.123:456): pid=1 uid=0 auid=4294967295 "
        "ses=4294967295 msg='op=login acct=\"root\" exe=\"/usr/sbin/sshd\" "
        "hostname=? addr=10.1.1.1 terminal=ssh res=failed'");
  EXPECT_EQ(au.format, "auditd");
  EXPECT_EQ(F(au, "user.name"), "root");
  EXPECT_EQ(F(au, "source.ip"), "10.1.1.1");
  EXPECT_EQ(F(au, "event.outcome"), "failure");
  EXPECT_EQ(F(au, "auditd.sequence"), "456");
  EXPECT_EQ(au.event_time_ns, 1'700'000'000'123'000'000);
}

TEST(FormatsTest, WebLogs) {
  Event a =
      P("192.168.33.1 - bob [26/Dec/2016:16:22:13 +0000] \"GET /hello?x=1 HTTP/1.1\" "
        "404 499 \"http://ref/\" \"Mozilla/5.0\"");
  EXPECT_EQ(a.format, "http_access");
  EXPECT_EQ(F(a, "source.ip"), "192.168.33.1");
  EXPECT_EQ(F(a, "user.name"), "bob");
  EXPECT_EQ(F(a, "http.request.method"), "GET");
  EXPECT_EQ(F(a, "url.original"), "/hello?x=1");
  EXPECT_EQ(F(a, "http.response.status_code"), "404");
  EXPECT_EQ(F(a, "http.response.body.bytes"), "499");
  EXPECT_EQ(F(a, "user_agent.original"), "Mozilla/5.0");
  EXPECT_EQ(F(a, "event.outcome"), "failure");
  EXPECT_EQ(a.event_time_ns, 1482769333LL * 1'000'000'000);
  Event n =
      P("<190>Dec  7 11:05:07 web nginx: 10.0.0.2, 10.0.0.1, 127.0.0.1 - - "
        "[07/Dec/2016:11:05:07 +0100] \"GET /ocelot HTTP/1.1\" 200 571 \"-\" \"UA\"");
  EXPECT_EQ(n.format, "http_access");
  EXPECT_EQ(F(n, "source.ip"), "10.0.0.2");
  Event e = P("[Sun Dec 04 04:47:44 2005] [error] [client 1.2.3.4] File does not exist: /x");
  EXPECT_EQ(e.format, "apache_error");
  EXPECT_EQ(F(e, "log.level"), "error");
  EXPECT_EQ(F(e, "source.ip"), "1.2.3.4");
  Event e24 =
      P("[Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 35708:tid 4328636416] "
        "[client 72.15.99.187:5432] AH00037: Symbolic link not allowed");
  EXPECT_EQ(F(e24, "apache.module"), "core");
  EXPECT_EQ(F(e24, "source.port"), "5432");
  EXPECT_EQ(F(e24, "process.pid"), "35708");
  Event ng =
      P("2014/12/30 06:07:37 [error] 80#2: *1 open() failed, client: 10.1.1.1, server: x,"
        " request: \"GET /a HTTP/1.1\", host: \"x\"");
  EXPECT_EQ(ng.format, "nginx_error");
  EXPECT_EQ(F(ng, "source.ip"), "10.1.1.1");
  EXPECT_EQ(F(ng, "url.original"), "/a");
}

// Found by fuzz_auto: a year far in the future overflowed the ns arithmetic.
TEST(FormatsTest, AccessLogYearOutOfRangeKeepsReceiveTime) {
  Event e = P("10.1.1.1 - kim [02/Jan/2570:03:04:05 +0000] \"GET / HTTP/1.1\" 200 1");
  EXPECT_EQ(e.format, "http_access");
  EXPECT_EQ(e.event_time_ns, kReceived);
}

TEST(FormatsTest, AccessLogHugeStatusIsNotAccessLog) {
  EXPECT_NE(P("1.1.1.1 - - [02/Jan/2024:03:04:05 +0000] \"GET / HTTP/1.1\" 404444444444 1").format,
            "http_access");
}

TEST(FormatsTest, Rfc5424YearOutOfRangeKeepsReceiveTime) {
  Event e = P("<13>1 9999-12-31T23:59:59Z host app - - - x");
  EXPECT_EQ(e.event_time_ns, kReceived);
  EXPECT_EQ(e.time_flags, kTimeFromReceipt);
}

TEST(FormatsTest, WindowsShapes) {
  // Wazuh eventchannel
  Event w =
      P(R"({"win":{"system":{"eventID":"4625","channel":"Security","providerName":)"
        R"("Microsoft-Windows-Security-Auditing","computer":"DC1"},"eventdata":)"
        R"({"targetUserName":"Administrator","ipAddress":"192.168.0.121","ipPort":"5000"}}})");
  EXPECT_EQ(w.format, "windows");
  EXPECT_EQ(F(w, "event.code"), "4625");
  EXPECT_EQ(F(w, "user.name"), "Administrator");
  EXPECT_EQ(F(w, "source.ip"), "192.168.0.121");
  EXPECT_EQ(F(w, "event.action"), "login");
  EXPECT_EQ(F(w, "event.outcome"), "failure");
  EXPECT_EQ(w.host, "DC1");
  // Winlogbeat
  Event b = P(R"({"@timestamp":"2020-01-01T00:00:00Z","winlog":{"event_id":4624,"channel":)"
              R"("Security","computer_name":"WS1","event_data":{"TargetUserName":"bob",)"
              R"("IpAddress":"10.0.0.5"}}})");
  EXPECT_EQ(b.format, "windows");
  EXPECT_EQ(F(b, "event.outcome"), "success");
  EXPECT_EQ(F(b, "user.name"), "bob");
  // NXLog flat (as in the OTRF data sets)
  Event x = P(R"({"EventID":1,"SourceName":"Microsoft-Windows-Sysmon","Channel":)"
              R"("Microsoft-Windows-Sysmon/Operational","Hostname":"WS5","Image":)"
              R"("C:\\Windows\\System32\\cmd.exe","CommandLine":"cmd /c whoami","ProcessId":"42",)"
              R"("User":"CORP\\alice"})");
  EXPECT_EQ(x.format, "windows");
  EXPECT_EQ(F(x, "event.module"), "sysmon");
  EXPECT_EQ(F(x, "process.name"), "cmd.exe");
  EXPECT_EQ(F(x, "process.command_line"), "cmd /c whoami");
  EXPECT_EQ(F(x, "user.name"), "alice");
  EXPECT_EQ(F(x, "user.domain"), "CORP");
  EXPECT_EQ(F(x, "event.action"), "process-created");
  // XML-to-JSON "Event.System"
  Event s =
      P(R"({"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon"}},)"
        R"("EventID":3,"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"h"},)"
        R"("EventData":{"SourceIp":"10.0.0.1","DestinationIp":"8.8.8.8","DestinationPort":53,)"
        R"("Protocol":"udp"}}})");
  EXPECT_EQ(s.format, "windows");
  EXPECT_EQ(F(s, "destination.ip"), "8.8.8.8");
  EXPECT_EQ(F(s, "network.transport"), "udp");
  // A JSON object that is not a Windows event stays json.
  EXPECT_EQ(P(R"({"user":"root"})").format, "json");
  // Snare over syslog
  Event sn =
      P("<13>Mar 19 15:33:30 winsrv MSWinEventLog\t1\tSecurity\t1167\tFri Mar 19 15:33:30 "
        "2010\t4625\tMicrosoft-Windows-Security-Auditing\tbob\tUser\tFailure Audit\t"
        "WINSRV\tLogon\t\tAn account failed to log on. Source Network Address: 10.9.8.7 "
        "Source Port: 1\t12");
  EXPECT_EQ(sn.format, "snare");
  EXPECT_EQ(F(sn, "event.code"), "4625");
  EXPECT_EQ(F(sn, "user.name"), "bob");
  EXPECT_EQ(F(sn, "event.outcome"), "failure");
  EXPECT_EQ(F(sn, "source.ip"), "10.9.8.7");
}

TEST(FormatsTest, PinnedFormatAndFallbacks) {
  const std::string ssh =
      "<38>Feb 23 00:13:35 h sshd[1]: Accepted password for a from 1.2.3.4 "
      "port 1 ssh2";
  EXPECT_EQ(P(ssh, "sshd").format, "sshd");
  EXPECT_EQ(P(ssh, "cef").format, "unparsed");  // pinned and not CEF
  EXPECT_EQ(P(ssh, "rfc3164").format, "rfc3164");
  EXPECT_EQ(P("CEF:0|a|b|c|d|e|f|src=1.1.1.1", "cef").format, "cef");
  // An unknown app with plain text stays rfc3164.
  Event e = P("<13>Feb 23 00:13:35 h myapp[1]: hello world");
  EXPECT_EQ(e.format, "rfc3164");
  EXPECT_TRUE(e.fields.empty());
  // key=value bodies from unknown apps: generic kv.
  Event kv = P("<13>Feb 23 00:13:35 h app: src=1.2.3.4 dst=5.6.7.8 action=drop user=x");
  EXPECT_EQ(kv.format, "kv");
  EXPECT_EQ(F(kv, "event.action"), "deny");
  EXPECT_EQ(F(kv, "kv.user"), "x");
}

}  // namespace
}  // namespace mamori::parsers
