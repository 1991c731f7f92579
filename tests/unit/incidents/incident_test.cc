#include "mamori/incidents/incident.h"

#include <gtest/gtest.h>

namespace mamori::incidents {
namespace {

Incident Sample() {
  Incident inc;
  inc.id = 7;
  inc.status = IncidentStatus::kNew;
  inc.severity = Severity::kHigh;
  inc.title = "SSH password brute force";
  inc.rule_id = "ssh-brute-force";
  inc.group_key = "source.ip=203.0.113.7";
  inc.first_seen_ns = 1'700'000'000'000'000'000;
  inc.last_seen_ns = 1'700'000'060'000'000'000;
  inc.created_ns = 1'700'000'001'000'000'000;
  inc.updated_ns = 1'700'000'061'000'000'000;
  inc.count = 3;
  inc.evidence_seqs = {10, 11, 12};
  inc.evidence_count = 3;
  inc.highest_evidence_seq = 12;
  inc.tags = {"attack.t1110", "policy.6.6"};
  inc.summary = "SSH brute force from 203.0.113.7";
  inc.last_summary = "again";
  inc.fields = {{"source.ip", "203.0.113.7"}, {"user", "root"}};
  return inc;
}

TEST(IncidentTest, EncodeDecodeRoundTrip) {
  Incident in = Sample();
  auto out = DecodeIncident(EncodeIncident(in));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->id, in.id);
  EXPECT_EQ(out->status, in.status);
  EXPECT_EQ(out->severity, in.severity);
  EXPECT_EQ(out->title, in.title);
  EXPECT_EQ(out->rule_id, in.rule_id);
  EXPECT_EQ(out->group_key, in.group_key);
  EXPECT_EQ(out->first_seen_ns, in.first_seen_ns);
  EXPECT_EQ(out->last_seen_ns, in.last_seen_ns);
  EXPECT_EQ(out->created_ns, in.created_ns);
  EXPECT_EQ(out->updated_ns, in.updated_ns);
  EXPECT_EQ(out->count, in.count);
  EXPECT_EQ(out->evidence_seqs, in.evidence_seqs);
  EXPECT_EQ(out->evidence_count, in.evidence_count);
  EXPECT_EQ(out->highest_evidence_seq, in.highest_evidence_seq);
  EXPECT_EQ(out->tags, in.tags);
  EXPECT_EQ(out->summary, in.summary);
  EXPECT_EQ(out->last_summary, in.last_summary);
  EXPECT_EQ(out->fields, in.fields);
}

TEST(IncidentTest, DecodeIgnoresUnknownKeysAndRejectsGarbage) {
  std::string enc = EncodeIncident(Sample());
  enc.insert(1, "\"owner\":\"alice\",");  // a key a later version may add
  EXPECT_TRUE(DecodeIncident(enc).ok());
  EXPECT_EQ(DecodeIncident("not json").status().code(), Status::Code::kCorruption);
  EXPECT_EQ(DecodeIncident("{\"v\":2}").status().code(), Status::Code::kCorruption);
  EXPECT_EQ(DecodeIncident("{\"v\":1,\"status\":\"new\",\"severity\":\"high\",\"count\":\"x\"}")
                .status()
                .code(),
            Status::Code::kCorruption);
}

TEST(IncidentTest, JsonView) {
  nlohmann::json j = IncidentToJson(Sample());
  EXPECT_EQ(j["id"], 7);
  EXPECT_EQ(j["status"], "new");
  EXPECT_EQ(j["severity"], "high");
  EXPECT_EQ(j["rule_id"], "ssh-brute-force");
  EXPECT_EQ(j["first_seen"], "2023-11-14T22:13:20Z");
  EXPECT_EQ(j["evidence_seqs"], nlohmann::json({10, 11, 12}));
  EXPECT_EQ(j["fields"]["user"], "root");
}

TEST(IncidentTest, Names) {
  IncidentStatus s;
  ASSERT_TRUE(ParseStatus("in_progress", &s));
  EXPECT_EQ(s, IncidentStatus::kInProgress);
  EXPECT_FALSE(ParseStatus("open", &s));
  EXPECT_TRUE(IsOpen(IncidentStatus::kReopened));
  EXPECT_FALSE(IsOpen(IncidentStatus::kClosed));
  Severity v;
  ASSERT_TRUE(ParseSeverity("critical", &v));
  EXPECT_EQ(SeverityName(v), "critical");
}

}  // namespace
}  // namespace mamori::incidents
