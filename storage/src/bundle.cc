#include "mamori/storage/bundle.h"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "mamori/storage/record_json.h"
#include "report_util.h"

namespace mamori::storage {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr const char* kManifest = "MANIFEST";
constexpr const char* kPublicKey = "public_key.pem";
constexpr const char* kCheckpoints = "checkpoints.log";
constexpr const char* kRecords = "records.jsonl";
constexpr const char* kProofs = "proofs.jsonl";

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::strict); }

Status WriteFile(const fs::path& p, const std::string& data) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  out.close();
  if (!out) return Status::IOError("cannot write " + p.string());
  return Status::Ok();
}

std::optional<std::string> ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::optional<std::string> Base64Decode(std::string_view s) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (s.size() % 4 != 0) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < s.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int j = 0; j < 4; ++j) {
      const char c = s[i + j];
      if (c == '=' && i + 4 == s.size() && j >= 2) {
        v[j] = 0;
        ++pad;
      } else if (pad > 0 || (v[j] = val(c)) < 0) {
        return std::nullopt;
      }
    }
    const std::uint32_t n = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    out.push_back(static_cast<char>(n >> 16));
    if (pad < 2) out.push_back(static_cast<char>(n >> 8));
    if (pad < 1) out.push_back(static_cast<char>(n));
  }
  if (Base64Encode(out) != s) return std::nullopt;  // canonical only
  return out;
}

// Checkpoints of the view by seq (the first checkpoint at each seq).
std::map<std::uint64_t, LogEntry> Checkpoints(const EvidenceView& view) {
  std::map<std::uint64_t, LogEntry> out;
  for (const std::string& line : view.entries) {
    auto e = ParseLogLine(line);
    if (e.ok() && e->kind == LogEntry::Kind::kCheckpoint) out.emplace(e->seq, *e);
  }
  return out;
}

Result<std::vector<std::uint64_t>> Select(const EvidenceStore& store, const ExportSelection& sel) {
  if (!sel.query) return sel.seqs;
  Query q = *sel.query;
  q.limit = Query::kMaxLimit;
  q.cursor.clear();
  std::set<std::uint64_t> seqs;
  for (;;) {
    auto page = store.Search(q);
    if (!page.ok()) return page.status();
    for (const Record& r : page->records) seqs.insert(r.seq);
    if (seqs.size() > sel.max_records) {
      return Status::InvalidArgument("more than " + std::to_string(sel.max_records) +
                                     " records match; narrow the selection");
    }
    if (page->next_cursor.empty()) break;
    q.cursor = page->next_cursor;
  }
  return std::vector<std::uint64_t>(seqs.begin(), seqs.end());
}

json RecordLine(const ChainItem& item) {
  const RawRecord& raw = item.record.raw;
  json j;
  j["seq"] = item.seq;
  j["received_ns"] = raw.received_ns;
  j["transport"] = static_cast<int>(raw.transport);
  j["flags"] = raw.flags;
  j["original_size"] = raw.original_size;
  j["info_class"] = static_cast<int>(item.record.event.info_class);
  j["listener_hex"] = ToHex(raw.listener);
  j["peer_hex"] = ToHex(raw.peer);
  j["salt_hex"] = ToHex(item.salt);
  j["raw_base64"] = Base64Encode(raw.bytes);
  j["event"] = RecordToJson(item.record);  // informational: not covered by the chain
  return j;
}

}  // namespace

Result<std::vector<std::uint64_t>> ParseSeqList(std::string_view s, std::size_t max) {
  std::set<std::uint64_t> out;
  auto num = [](std::string_view v, std::uint64_t* n) {
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), *n);
    return !v.empty() && ec == std::errc() && p == v.data() + v.size() && *n > 0;
  };
  std::size_t pos = 0;
  while (pos <= s.size()) {
    const std::size_t comma = std::min(s.find(',', pos), s.size());
    const std::string_view part = s.substr(pos, comma - pos);
    const std::size_t dash = part.find('-');
    std::uint64_t a, b;
    if (dash == std::string_view::npos
            ? !num(part, &a) || !(b = a)
            : !num(part.substr(0, dash), &a) || !num(part.substr(dash + 1), &b) || b < a) {
      return Status::InvalidArgument("--seq: expected a list like 1,5,9-12, got '" +
                                     std::string(part) + "'");
    }
    if (b - a >= max || out.size() + (b - a) >= max) {
      return Status::InvalidArgument("--seq: more than " + std::to_string(max) + " records");
    }
    for (std::uint64_t i = a; i <= b; ++i) out.insert(i);
    pos = comma + 1;
  }
  return std::vector<std::uint64_t>(out.begin(), out.end());
}

Result<ExportSummary> ExportBundle(const EvidenceStore& store, const ExportSelection& selection,
                                   const std::string& out_dir) {
  std::error_code ec;
  if (fs::exists(out_dir, ec)) return Status::InvalidArgument(out_dir + ": already exists");
  auto selected = Select(store, selection);
  if (!selected.ok()) return selected.status();
  if (selected->empty()) return Status::NotFound("no record matches the selection");
  if (selected->size() > selection.max_records) {
    return Status::InvalidArgument("more than " + std::to_string(selection.max_records) +
                                   " records selected");
  }
  // The checkpoints (no chain items: start past any seq).
  EvidenceView view;
  if (Status s = store.ReadEvidence(UINT64_MAX, 0, &view, [](const ChainItem&) { return false; });
      !s.ok()) {
    return s;
  }
  if (view.public_key_pem.empty()) return Status::NotFound("the store has no signing key yet");
  const auto checkpoints = Checkpoints(view);

  // Group the selected seqs by covering checkpoint (the first at or after each).
  std::map<std::uint64_t, std::vector<std::uint64_t>> groups;  // checkpoint seq -> seqs
  for (std::uint64_t seq : *selected) {
    auto cp = checkpoints.lower_bound(seq);
    if (cp == checkpoints.end()) {
      return Status::Unavailable("record " + std::to_string(seq) +
                                 " is not covered by a signed checkpoint yet; retry after the "
                                 "next checkpoint (evidence.checkpoint_interval)");
    }
    groups[cp->first].push_back(seq);
  }

  std::string records_out, proofs_out, checkpoints_out;
  ExportSummary summary;
  for (const auto& [cp_seq, seqs] : groups) {
    const LogEntry& cp = checkpoints.at(cp_seq);
    const std::uint64_t a = seqs.front();
    std::set<std::uint64_t> wanted(seqs.begin(), seqs.end());
    json proof;
    proof["from"] = a;
    proof["to"] = cp_seq;
    proof["checkpoint"] = cp.id;
    proof["prev"] = ToHex(kZeroHash);
    json digests = json::array();
    std::uint64_t expected = a > 1 ? a - 1 : a;
    Status failure;
    EvidenceView unused;
    ChainHasher hasher;
    Status s = store.ReadEvidence(expected, cp_seq, &unused, [&](const ChainItem& item) {
      if (item.seq != expected || !item.decode_status.ok() || !item.has_hash) {
        failure = Status::Corruption("record " + std::to_string(expected) +
                                     " is missing or damaged; run mamori verify");
        return false;
      }
      ++expected;
      if (item.seq < a) {
        proof["prev"] = ToHex(item.hash);
        return true;
      }
      if (wanted.count(item.seq)) {
        if (item.disposed) {
          failure = Status::NotFound("record " + std::to_string(item.seq) +
                                     " was disposed of (retention)");
          return false;
        }
        records_out += Dump(RecordLine(item)) + "\n";
        ++summary.records;
      }
      const Hash d = item.disposed ? item.digest
                                   : hasher.RecordDigest(item.record.raw,
                                                         item.record.event.info_class, item.salt);
      digests.push_back(ToHex(d));
      return true;
    });
    if (!s.ok()) return s;
    if (!failure.ok()) return failure;
    if (expected != cp_seq + 1) {
      return Status::Corruption("records up to " + std::to_string(cp_seq) +
                                " are missing; run mamori verify");
    }
    summary.proof_hashes += digests.size();
    proof["digests"] = std::move(digests);
    proofs_out += Dump(proof) + "\n";
    checkpoints_out += cp.Line() + "\n";
    ++summary.checkpoints;
  }

  if (!fs::create_directory(out_dir, ec)) {
    return Status::IOError(out_dir + ": cannot create: " + ec.message());
  }
  const std::vector<std::pair<const char*, const std::string*>> files = {
      {kCheckpoints, &checkpoints_out},
      {kProofs, &proofs_out},
      {kPublicKey, &view.public_key_pem},
      {kRecords, &records_out}};
  std::string manifest;
  for (const auto& [name, data] : files) {
    if (Status st = WriteFile(fs::path(out_dir) / name, *data); !st.ok()) return st;
    manifest += ToHex(Sha256::Of(*data)) + "  " + name + "\n";
  }
  if (Status st = WriteFile(fs::path(out_dir) / kManifest, manifest); !st.ok()) return st;
  return summary;
}

namespace {

class BundleVerifier {
 public:
  BundleVerifier(const std::string& dir, const std::string& trusted)
      : dir_(dir), trusted_(trusted) {}

  BundleReport Run() {
    try {
      if (Manifest() && Key() && LoadCheckpoints() && LoadRecords()) Proofs();
    } catch (const std::exception& e) {  // nlohmann type errors on malformed content
      Fail(VerifyFailure::kChain, 0, std::string("malformed bundle: ") + e.what());
    }
    return std::move(r_);
  }

 private:
  bool Fail(VerifyFailure f, std::uint64_t seq, std::string what) {
    return internal::RecordFirstFailure(&r_, f, seq, std::move(what));
  }

  bool Manifest() {
    std::error_code ec;
    std::set<std::string> present;
    for (const auto& entry : fs::directory_iterator(dir_, ec)) {
      if (!entry.is_regular_file()) {
        return Fail(VerifyFailure::kChain, 0,
                    "unexpected entry " + entry.path().filename().string());
      }
      present.insert(entry.path().filename().string());
    }
    if (ec) return Fail(VerifyFailure::kError, 0, dir_ + ": " + ec.message());
    auto manifest = ReadFile(fs::path(dir_) / kManifest);
    if (!manifest) return Fail(VerifyFailure::kChain, 0, "MANIFEST is missing");
    std::set<std::string> listed;
    std::size_t pos = 0;
    while (pos < manifest->size()) {
      const std::size_t nl = manifest->find('\n', pos);
      if (nl == std::string::npos)
        return Fail(VerifyFailure::kChain, 0, "MANIFEST: no final newline");
      const std::string_view line = std::string_view(*manifest).substr(pos, nl - pos);
      pos = nl + 1;
      if (line.size() < 67 || line.substr(64, 2) != "  ") {
        return Fail(VerifyFailure::kChain, 0, "MANIFEST: malformed line");
      }
      auto want = HashFromHex(line.substr(0, 64));
      const std::string name(line.substr(66));
      if (!want || name == kManifest || !present.count(name) || !listed.insert(name).second) {
        return Fail(VerifyFailure::kChain, 0, "MANIFEST: bad entry '" + name + "'");
      }
      auto data = ReadFile(fs::path(dir_) / name);
      if (!data) return Fail(VerifyFailure::kError, 0, "cannot read " + name);
      if (Sha256::Of(*data) != *want) {
        return Fail(VerifyFailure::kChain, 0, name + " does not match its hash in MANIFEST");
      }
      files_[name] = std::move(*data);
    }
    for (const std::string& name : present) {
      if (name != kManifest && !listed.count(name)) {
        return Fail(VerifyFailure::kChain, 0, name + " is not listed in MANIFEST");
      }
    }
    for (const char* name : {kPublicKey, kCheckpoints, kRecords, kProofs}) {
      if (!files_.count(name))
        return Fail(VerifyFailure::kChain, 0, std::string(name) + " is missing");
    }
    return true;
  }

  bool Key() {
    auto k = PublicKey::FromPem(files_[kPublicKey]);
    if (!k.ok()) return Fail(VerifyFailure::kCheckpoint, 0, k.status().message());
    key_ = std::move(k).value();
    r_.key_id = key_->key_id();
    if (!trusted_.empty()) {
      auto t = PublicKey::FromPem(trusted_);
      if (!t.ok()) return Fail(VerifyFailure::kError, 0, "trusted key: " + t.status().message());
      if (t->key_id() != key_->key_id()) {
        return Fail(
            VerifyFailure::kCheckpoint, 0,
            "the bundle's key " + key_->key_id() + " is not the trusted key " + t->key_id());
      }
    }
    return true;
  }

  bool LoadCheckpoints() {
    for (const std::string& line : Lines(files_[kCheckpoints])) {
      auto e = ParseLogLine(line);
      if (!e.ok() || e->kind != LogEntry::Kind::kCheckpoint) {
        return Fail(VerifyFailure::kCheckpoint, 0, "checkpoints.log: malformed line");
      }
      if (!VerifyEntry(*e, *key_)) {
        return Fail(VerifyFailure::kCheckpoint, e->seq,
                    "checkpoint id " + std::to_string(e->id) + ": bad signature");
      }
      checkpoints_[e->id] = *e;
    }
    return true;
  }

  bool LoadRecords() {
    ChainHasher hasher;
    for (const std::string& line : Lines(files_[kRecords])) {
      const json j = json::parse(line);
      RawRecord raw;
      const std::uint64_t seq = j.at("seq").get<std::uint64_t>();
      raw.received_ns = j.at("received_ns").get<std::int64_t>();
      const int transport = j.at("transport").get<int>();
      const int cls = j.at("info_class").get<int>();
      if (transport < 0 || transport > 4 || cls < 1 || cls > 3) {
        return Fail(VerifyFailure::kChain, seq, "record " + std::to_string(seq) + ": bad values");
      }
      raw.transport = static_cast<Transport>(transport);
      raw.flags = j.at("flags").get<std::uint32_t>();
      raw.original_size = j.at("original_size").get<std::uint64_t>();
      auto listener = FromHex(j.at("listener_hex").get<std::string>());
      auto peer = FromHex(j.at("peer_hex").get<std::string>());
      auto salt = FromHex(j.at("salt_hex").get<std::string>());
      auto bytes = Base64Decode(j.at("raw_base64").get<std::string>());
      if (!listener || !peer || !salt || !bytes) {
        return Fail(VerifyFailure::kChain, seq, "record " + std::to_string(seq) + ": bad encoding");
      }
      raw.listener = std::move(*listener);
      raw.peer = std::move(*peer);
      raw.bytes = std::move(*bytes);
      if (!digests_.emplace(seq, hasher.RecordDigest(raw, static_cast<InfoClass>(cls), *salt))
               .second) {
        return Fail(VerifyFailure::kChain, seq, "record " + std::to_string(seq) + " appears twice");
      }
    }
    return true;
  }

  bool Proofs() {
    ChainHasher hasher;
    std::set<std::uint64_t> covered;
    std::uint64_t last_to = 0;
    for (const std::string& line : Lines(files_[kProofs])) {
      const json j = json::parse(line);
      const std::uint64_t from = j.at("from").get<std::uint64_t>();
      const std::uint64_t to = j.at("to").get<std::uint64_t>();
      const std::uint64_t cp_id = j.at("checkpoint").get<std::uint64_t>();
      auto prev = HashFromHex(j.at("prev").get<std::string>());
      const json& digests = j.at("digests");
      if (!prev || from == 0 || to < from || from <= last_to || !digests.is_array() ||
          digests.size() != to - from + 1) {
        return Fail(VerifyFailure::kChain, from, "proofs.jsonl: malformed segment");
      }
      last_to = to;
      auto cp = checkpoints_.find(cp_id);
      if (cp == checkpoints_.end() || cp->second.seq != to) {
        return Fail(VerifyFailure::kCheckpoint, to,
                    "segment to " + std::to_string(to) + ": no signed checkpoint at that seq");
      }
      Hash h = from == 1 ? kZeroHash : *prev;
      if (from == 1 && *prev != kZeroHash) {
        return Fail(VerifyFailure::kChain, from, "segment from 1 must start at the zero hash");
      }
      for (std::uint64_t seq = from; seq <= to; ++seq) {
        auto d = HashFromHex(digests[seq - from].get<std::string>());
        if (!d) return Fail(VerifyFailure::kChain, seq, "proofs.jsonl: bad digest");
        if (auto rec = digests_.find(seq); rec != digests_.end()) {
          if (rec->second != *d) {
            return Fail(VerifyFailure::kChain, seq,
                        "record " + std::to_string(seq) + " does not match its proof (modified)");
          }
          covered.insert(seq);
        }
        h = hasher.Link(h, seq, *d);
      }
      if (h != cp->second.head) {
        return Fail(VerifyFailure::kCheckpoint, to,
                    "segment " + std::to_string(from) + ".." + std::to_string(to) +
                        " does not lead to the signed head of checkpoint " + std::to_string(cp_id));
      }
      ++r_.checkpoints;
    }
    for (const auto& [seq, d] : digests_) {
      if (!covered.count(seq)) {
        return Fail(VerifyFailure::kChain, seq,
                    "record " + std::to_string(seq) + " is not covered by any proof segment");
      }
    }
    r_.records = digests_.size();
    return true;
  }

  static std::vector<std::string> Lines(const std::string& text) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos < text.size()) {
      std::size_t nl = text.find('\n', pos);
      if (nl == std::string::npos) nl = text.size();
      out.emplace_back(text.substr(pos, nl - pos));
      pos = nl + 1;
    }
    return out;
  }

  std::string dir_;
  std::string trusted_;
  BundleReport r_;
  std::map<std::string, std::string> files_;
  std::optional<PublicKey> key_;
  std::map<std::uint64_t, LogEntry> checkpoints_;
  std::map<std::uint64_t, Hash> digests_;
};

}  // namespace

BundleReport VerifyBundle(const std::string& dir, const std::string& trusted_public_key_pem) {
  return BundleVerifier(dir, trusted_public_key_pem).Run();
}

}  // namespace mamori::storage
