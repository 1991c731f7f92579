// libFuzzer target: the decoders of what mamori reads back from disk, where a damaged or
// tampered store is normal input: record values (SplitRecords for record groups, then
// DecodeRecord of each record: versions 1 and 2, chain extensions), evidence log lines
// (ParseLogLine: checkpoints v1/v2, disposals), incident records (DecodeIncident) and audit entries
// (DecodeAuditValue).
//
// The first byte picks the decoder. The rest is either taken as it is (odd second byte) or, to
// reach deep into the formats, applied as edits to a valid encoding built here: pairs of
// (position, byte) overwrite bytes, and the last two bytes cut the value to a length.
// Checks: no crash, no sanitizer report; a log line that parses is the canonical form of itself
// (Line() gives back the same bytes: FORMAT.md promises no other form parses).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_records.h"
#include "mamori/auth/audit.h"
#include "mamori/incidents/incident.h"
#include "mamori/storage/evidence_log.h"
#include "record_codec.h"

namespace {

std::string RecordValue(bool v1) {
  mamori::Record r = mamori::fuzz::SshdFailureRecord();
  r.event.fields.push_back({"note", "not in raw"});  // stored as bytes, not as a reference
  std::string out;
  if (v1) {
    mamori::storage::internal::EncodeRecordV1(r, &out);
  } else {
    mamori::storage::internal::EncodeRecord(r, &out);
  }
  mamori::storage::internal::AppendChainExt(std::string(16, 's'), mamori::storage::Hash{}, &out);
  return out;
}

std::string GroupValue() {
  mamori::storage::internal::GroupBuilder b;
  b.Clear(5);
  b.Add(5, RecordValue(false));
  b.Add(6, RecordValue(true));
  b.Add(9, RecordValue(false));
  return b.Value();
}

std::string IncidentValue() {
  mamori::incidents::Incident i;
  i.id = 7;
  i.rule_id = "ssh-brute-force";
  i.title = "SSH password brute force";
  i.group_key = "src_ip=10.0.0.5";
  i.count = 5;
  i.evidence_seqs = {1, 2, 3, 4, 5};
  i.tags = {"attack.t1110", "policy.6.6"};
  i.fields = {{"src_ip", "10.0.0.5"}};
  return mamori::incidents::EncodeIncident(i);
}

std::string AuditValue() {
  mamori::auth::AuditEntry e;
  e.seq = 3;
  e.time_ns = 1'700'000'000'000'000'000;
  e.actor = "csirt";
  e.role = "analyst";
  e.peer = "127.0.0.1:5000";
  e.method = "GET";
  e.path = "/api/v1/events";
  e.params = {{"q", "sshd"}, {"limit", "10"}};
  e.status = 200;
  e.returned = 10;
  return mamori::auth::EncodeAuditEntry(e) + std::string(32, '\x5a');
}

std::string LogLine(int which) {
  const std::string head = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
  const std::string sig(128, 'a');
  switch (which % 3) {
    case 0:
      return "mamori-checkpoint v1 id=12 time=1700000000000000000 key=0123456789abcdef "
             "seq=40000 head=" +
             head + " sig=" + sig;
    case 1:
      return "mamori-checkpoint v2 id=12 time=1700000000000000000 key=0123456789abcdef "
             "seq=40000 head=" +
             head + " audit_seq=5 audit_head=" + head + " sig=" + sig;
    default:
      return "mamori-disposal v1 id=13 time=1700000000000000001 key=0123456789abcdef first=3 "
             "last=9 count=4 class_I=4 class_II=0 class_III=0 set=" +
             head + " last_hash=" + head + " sig=" + sig;
  }
}

void Decode(int which, std::string_view in) {
  switch (which) {
    case 0: {
      std::vector<mamori::storage::internal::GroupItem> items;
      if (!mamori::storage::internal::SplitRecords(5, in, &items).ok()) break;
      for (const auto& item : items) {
        if (item.value.data() < in.data() || item.value.end() > in.end()) std::abort();
        mamori::Record r;
        mamori::storage::internal::ChainExt ext;
        (void)mamori::storage::internal::DecodeRecord(item.value, &r, &ext);
      }
      break;
    }
    case 1: {
      auto e = mamori::storage::ParseLogLine(in);
      if (e.ok() && e.value().Line() != in) std::abort();  // only the canonical form parses
      break;
    }
    case 2:
      (void)mamori::incidents::DecodeIncident(in);
      break;
    default:
      (void)mamori::auth::DecodeAuditValue(in);
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const int which = data[0] % 4;
  const bool as_is = (data[1] & 1) != 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 2, size - 2);
  if (as_is) {
    Decode(which, rest);
    return 0;
  }
  static const std::string kValues[] = {RecordValue(false), RecordValue(true), IncidentValue(),
                                        AuditValue(), GroupValue()};
  std::string v;
  switch (which) {
    case 0: {
      const int k = (data[1] >> 1) % 3;  // a v2 record, a v1 record, or a group of them
      v = kValues[k == 2 ? 4 : k];
      break;
    }
    case 1:
      v = LogLine(data[1] >> 1);
      break;
    case 2:
      v = kValues[2];
      break;
    default:
      v = kValues[3];
      break;
  }
  std::size_t i = 0;
  for (; i + 2 < rest.size(); i += 2) {
    v[static_cast<unsigned char>(rest[i]) * 7 % v.size()] = rest[i + 1];
  }
  if (i + 2 == rest.size()) {
    const std::size_t len =
        (static_cast<unsigned char>(rest[i]) << 8) | static_cast<unsigned char>(rest[i + 1]);
    if (len < v.size()) v.resize(len);
  }
  Decode(which, v);
  return 0;
}
