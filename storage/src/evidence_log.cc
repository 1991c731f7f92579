#include "mamori/storage/evidence_log.h"

#include <charconv>
#include <vector>

namespace mamori::storage {
namespace {

std::vector<std::string_view> Split(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (pos <= s.size()) {
    const std::size_t sp = s.find(' ', pos);
    const std::size_t end = sp == std::string_view::npos ? s.size() : sp;
    out.push_back(s.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

bool Value(std::string_view token, std::string_view key, std::string_view* v) {
  if (token.size() <= key.size() || token.substr(0, key.size()) != key ||
      token[key.size()] != '=') {
    return false;
  }
  *v = token.substr(key.size() + 1);
  return true;
}

template <typename T>
bool Num(std::string_view token, std::string_view key, T* out) {
  std::string_view v;
  if (!Value(token, key, &v) || v.empty()) return false;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), *out);
  return ec == std::errc() && p == v.data() + v.size();
}

bool HashField(std::string_view token, std::string_view key, Hash* out) {
  std::string_view v;
  if (!Value(token, key, &v)) return false;
  auto h = HashFromHex(v);
  if (!h) return false;
  *out = *h;
  return true;
}

}  // namespace

std::string LogEntry::SignedText() const {
  std::string s = kind == Kind::kDisposal ? "mamori-disposal v1"
                  : audit                 ? "mamori-checkpoint v2"
                                          : "mamori-checkpoint v1";
  s += " id=" + std::to_string(id) + " time=" + std::to_string(time_ns) + " key=" + key_id;
  if (kind == Kind::kCheckpoint) {
    s += " seq=" + std::to_string(seq) + " head=" + ToHex(head);
    if (audit) {
      s += " audit_seq=" + std::to_string(audit->seq) + " audit_head=" + ToHex(audit->head);
    }
  } else {
    s += " first=" + std::to_string(first) + " last=" + std::to_string(last) +
         " count=" + std::to_string(count) + " class_I=" + std::to_string(count_by_class[0]) +
         " class_II=" + std::to_string(count_by_class[1]) +
         " class_III=" + std::to_string(count_by_class[2]) + " set=" + ToHex(set) +
         " last_hash=" + ToHex(last_hash);
  }
  return s;
}

std::string LogEntry::Line() const { return SignedText() + " sig=" + ToHex(signature); }

void SignEntry(const SigningKey& key, LogEntry* e) {
  e->key_id = key.key_id();
  e->signature = key.Sign(e->SignedText());
}

Result<LogEntry> ParseLogLine(std::string_view line) {
  const auto bad = [&](std::string_view why) {
    return Status::InvalidArgument("evidence log line: " + std::string(why));
  };
  const auto t = Split(line);
  LogEntry e;
  if (t.size() < 2) return bad("unknown kind or version");
  std::size_t want;
  if (t[0] == "mamori-checkpoint" && (t[1] == "v1" || t[1] == "v2")) {
    e.kind = LogEntry::Kind::kCheckpoint;
    want = t[1] == "v1" ? 8 : 10;
  } else if (t[0] == "mamori-disposal" && t[1] == "v1") {
    e.kind = LogEntry::Kind::kDisposal;
    want = 14;
  } else {
    return bad("unknown kind or version");
  }
  if (t.size() != want) return bad("wrong number of fields");
  std::string_view key, sig;
  if (!Num(t[2], "id", &e.id) || !Num(t[3], "time", &e.time_ns) || !Value(t[4], "key", &key)) {
    return bad("bad id, time or key");
  }
  e.key_id = std::string(key);
  if (e.kind == LogEntry::Kind::kCheckpoint) {
    if (!Num(t[5], "seq", &e.seq) || !HashField(t[6], "head", &e.head)) return bad("bad seq/head");
    if (want == 10) {
      ExtraAnchor a;
      if (!Num(t[7], "audit_seq", &a.seq) || !HashField(t[8], "audit_head", &a.head)) {
        return bad("bad audit_seq/audit_head");
      }
      e.audit = a;
    }
  } else {
    if (!Num(t[5], "first", &e.first) || !Num(t[6], "last", &e.last) ||
        !Num(t[7], "count", &e.count) || !Num(t[8], "class_I", &e.count_by_class[0]) ||
        !Num(t[9], "class_II", &e.count_by_class[1]) ||
        !Num(t[10], "class_III", &e.count_by_class[2]) || !HashField(t[11], "set", &e.set) ||
        !HashField(t[12], "last_hash", &e.last_hash)) {
      return bad("bad disposal fields");
    }
  }
  if (!Value(t.back(), "sig", &sig)) return bad("no signature");
  auto raw_sig = FromHex(sig);
  if (!raw_sig || raw_sig->size() != 64) return bad("bad signature encoding");
  e.signature = std::move(*raw_sig);
  // Canonical form only: leading zeros, '+' signs and the like would re-format differently.
  if (e.Line() != line) return bad("not in canonical form");
  return e;
}

bool VerifyEntry(const LogEntry& e, const PublicKey& key) {
  return e.key_id == key.key_id() && key.Verify(e.SignedText(), e.signature);
}

}  // namespace mamori::storage
