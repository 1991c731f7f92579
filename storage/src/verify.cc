#include "mamori/storage/verify.h"

#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>

#include "mamori/core/record.h"
#include "report_util.h"

namespace mamori::storage {
namespace {

struct CheckpointRef {
  std::uint64_t id;
  Hash head;
  bool from_file;
};

class Verifier {
 public:
  explicit Verifier(const VerifyOptions& o) : o_(o) {}

  VerifyReport Run(const EvidenceStore& store) {
    if (!o_.checkpoint_file.empty()) {
      auto f = ReadCheckpointFile(o_.checkpoint_file, &r_.warnings);
      if (!f.ok()) {
        const bool malformed = f.status().code() == Status::Code::kInvalidArgument;
        Fail(malformed ? VerifyFailure::kCheckpoint : VerifyFailure::kError, 0,
             f.status().message());
        return std::move(r_);
      }
      file_entries_ = std::move(f).value();
    }
    const std::uint64_t start = o_.from > 1 ? o_.from - 1 : 1;
    expected_ = o_.from > 1 ? 0 : 1;  // 0: waiting for the anchor record from-1
    EvidenceView view;
    Status s = store.ReadEvidence(start, o_.to, &view, [&](const ChainItem& item) {
      if (!prepared_ && !Prepare(view)) return false;
      return Step(item);
    });
    if (!s.ok() && r_.ok()) Fail(VerifyFailure::kError, 0, s.ToString());
    if (!r_.ok()) return std::move(r_);
    if (!prepared_ && !Prepare(view)) return std::move(r_);
    Finish(view);
    return std::move(r_);
  }

 private:
  bool Fail(VerifyFailure f, std::uint64_t seq, std::string what) {
    return internal::RecordFirstFailure(&r_, f, seq, std::move(what));
  }

  bool Prepare(const EvidenceView& view) {
    prepared_ = true;
    const std::string& pem = o_.public_key_pem.empty() ? view.public_key_pem : o_.public_key_pem;
    if (!pem.empty()) {
      auto k = PublicKey::FromPem(pem);
      if (!k.ok()) return Fail(VerifyFailure::kError, 0, "public key: " + k.status().message());
      key_ = std::move(k).value();
      r_.key_id = key_->key_id();
    }
    std::map<std::uint64_t, std::string> store_lines;
    for (std::size_t i = 0; i < view.entries.size(); ++i) {
      auto e = ParseLogLine(view.entries[i]);
      if (!e.ok()) {
        return Fail(VerifyFailure::kCheckpoint, 0,
                    "evidence log entry #" + std::to_string(i + 1) + " is malformed");
      }
      if (e->id != i + 1) {
        return Fail(VerifyFailure::kCheckpoint, 0,
                    "evidence log entry id " + std::to_string(i + 1) + " is missing");
      }
      if (!CheckSignature(*e, "store")) return false;
      store_lines[e->id] = view.entries[i];
      Add(*e, false);
      if (e->kind == LogEntry::Kind::kDisposal) {
        r_.disposals.push_back(*e);
        disposals_[e->id] = *e;
      }
    }
    for (const LogEntry& e : file_entries_) {
      if (!CheckSignature(e, "checkpoint file")) return false;
      auto it = store_lines.find(e.id);
      if (it == store_lines.end()) {
        return Fail(VerifyFailure::kCheckpoint, e.kind == LogEntry::Kind::kCheckpoint ? e.seq : 0,
                    "entry id " + std::to_string(e.id) +
                        " of the checkpoint file is missing from the store");
      }
      if (it->second != e.Line()) {
        return Fail(
            VerifyFailure::kCheckpoint, e.kind == LogEntry::Kind::kCheckpoint ? e.seq : 0,
            "entry id " + std::to_string(e.id) + ": the store and the checkpoint file disagree");
      }
      Add(e, true);
    }
    return true;
  }

  bool CheckSignature(const LogEntry& e, const char* where) {
    if (!key_) {
      return Fail(VerifyFailure::kCheckpoint, 0, "no public key to check signed entries against");
    }
    if (!VerifyEntry(e, *key_)) {
      return Fail(VerifyFailure::kCheckpoint, e.kind == LogEntry::Kind::kCheckpoint ? e.seq : 0,
                  std::string(where) + " entry id " + std::to_string(e.id) +
                      ": bad signature or not signed by key " + key_->key_id());
    }
    return true;
  }

  void Add(const LogEntry& e, bool from_file) {
    if (e.kind != LogEntry::Kind::kCheckpoint) return;
    if (o_.to != 0 && e.seq > o_.to) return;
    if (e.seq < o_.from) return;
    checkpoints_[e.seq].push_back({e.id, e.head, from_file});
  }

  bool Step(const ChainItem& item) {
    if (expected_ == 0) {  // the anchor of a range that starts after 1
      if (item.seq != o_.from - 1 || !item.has_hash) {
        return Fail(VerifyFailure::kChain, o_.from - 1,
                    "record " + std::to_string(o_.from - 1) +
                        " (the start of the range) is missing or not chained");
      }
      prev_ = item.hash;
      expected_ = o_.from;
      return true;
    }
    const std::string seq_s = std::to_string(item.seq);
    if (item.seq < expected_) {
      return Fail(VerifyFailure::kChain, item.seq,
                  "record " + seq_s + " is both stored and disposed of");
    }
    if (item.seq > expected_) {
      return Fail(VerifyFailure::kChain, expected_,
                  "record " + std::to_string(expected_) + " is missing (deleted)");
    }
    if (!item.decode_status.ok()) {
      return Fail(
          VerifyFailure::kChain, item.seq,
          "record " + seq_s + " cannot be decoded (modified): " + item.decode_status.message());
    }
    if (!item.has_hash) {
      return Fail(VerifyFailure::kChain, item.seq,
                  "record " + seq_s + " is not chained (stored with evidence.chain off)");
    }
    const Hash digest =
        item.disposed
            ? item.digest
            : hasher_.RecordDigest(item.record.raw, item.record.event.info_class, item.salt);
    const Hash h = hasher_.Link(prev_, item.seq, digest);
    if (h != item.hash) {
      return Fail(VerifyFailure::kChain, item.seq,
                  std::string(item.disposed ? "tombstone of record " : "record ") + seq_s +
                      " does not match its chain hash (modified, inserted or reordered)");
    }
    if (item.disposed) {
      auto d = disposals_.find(item.disposal_id);
      if (d == disposals_.end() || item.seq < d->second.first || item.seq > d->second.last) {
        return Fail(VerifyFailure::kCheckpoint, item.seq,
                    "record " + seq_s + " was removed without a signed disposal record");
      }
      auto& t = tallies_[item.disposal_id];
      if (!t.set) t.set = std::make_unique<Sha256>();
      std::string k;
      for (int i = 7; i >= 0; --i) k.push_back(static_cast<char>(item.seq >> (8 * i)));
      t.set->Update(k);
      ++t.count;
      ++r_.disposed;
    } else {
      ++r_.records;
    }
    if (auto c = checkpoints_.find(item.seq); c != checkpoints_.end()) {
      for (const CheckpointRef& cp : c->second) {
        if (cp.head != h) {
          return Fail(VerifyFailure::kCheckpoint, item.seq,
                      std::string("checkpoint id ") + std::to_string(cp.id) + " (" +
                          (cp.from_file ? "checkpoint file" : "store") + ") at seq " + seq_s +
                          " does not match the chain: records " +
                          std::to_string(last_good_checkpoint_ + 1) + ".." + seq_s +
                          " were altered and the chain recomputed");
        }
        ++(cp.from_file ? r_.file_checkpoints : r_.checkpoints);
      }
      last_good_checkpoint_ = item.seq;
    }
    if (r_.first_seq == 0) r_.first_seq = item.seq;
    r_.last_seq = item.seq;
    prev_ = h;
    ++expected_;
    return true;
  }

  void Finish(const EvidenceView& view) {
    if (expected_ == 0) {
      Fail(VerifyFailure::kChain, o_.from - 1,
           "record " + std::to_string(o_.from - 1) + " (the start of the range) is missing");
      return;
    }
    const std::uint64_t end = expected_ - 1;
    if (o_.to == 0 && view.next_seq > 0) {
      if (end + 1 < view.next_seq) {
        Fail(VerifyFailure::kChain, end + 1,
             "record " + std::to_string(end + 1) + " is missing (deleted; the store has issued " +
                 "sequence numbers up to " + std::to_string(view.next_seq - 1) + ")");
        return;
      }
      if (end + 1 > view.next_seq) {
        Fail(VerifyFailure::kChain, view.next_seq,
             "record " + std::to_string(view.next_seq) +
                 " is beyond the last sequence number the store issued (inserted)");
        return;
      }
      if (view.head.seq != 0 && (view.head.seq != end || view.head.hash != prev_)) {
        Fail(VerifyFailure::kChain, view.head.seq,
             "the stored chain head does not match the chain");
        return;
      }
    }
    std::uint64_t anchored = 0;
    for (const auto& [seq, refs] : checkpoints_) {
      if (seq > end) {
        Fail(VerifyFailure::kCheckpoint, seq,
             "checkpoint id " + std::to_string(refs.front().id) + " at seq " + std::to_string(seq) +
                 " is beyond the last record " + std::to_string(end) + ": records were removed");
        return;
      }
      anchored = seq;
    }
    r_.unanchored = end >= anchored && end >= o_.from ? end - std::max(anchored, o_.from - 1) : 0;
    if (o_.from <= 1 && o_.to == 0) {
      for (const auto& [id, d] : disposals_) {
        auto t = tallies_.find(id);
        const std::uint64_t n = t == tallies_.end() ? 0 : t->second.count;
        const Hash set = t == tallies_.end() ? Sha256::Of("") : t->second.set->Final();
        if (n != d.count || set != d.set) {
          Fail(VerifyFailure::kCheckpoint, d.first,
               "disposal id " + std::to_string(id) + ": " + std::to_string(n) +
                   " tombstones found, the signed record says " + std::to_string(d.count) +
                   (n == d.count ? " (different sequence numbers)" : ""));
          return;
        }
      }
    }
  }

  struct Tally {
    std::uint64_t count = 0;
    std::unique_ptr<Sha256> set;
  };

  const VerifyOptions& o_;
  VerifyReport r_;
  std::vector<LogEntry> file_entries_;
  std::optional<PublicKey> key_;
  std::map<std::uint64_t, std::vector<CheckpointRef>> checkpoints_;
  std::map<std::uint64_t, LogEntry> disposals_;
  std::map<std::uint64_t, Tally> tallies_;
  bool prepared_ = false;
  std::uint64_t expected_ = 1;
  std::uint64_t last_good_checkpoint_ = 0;
  Hash prev_{};
  ChainHasher hasher_;
};

const char* FailureName(VerifyFailure f) {
  switch (f) {
    case VerifyFailure::kChain:
      return "chain";
    case VerifyFailure::kCheckpoint:
      return "checkpoint";
    case VerifyFailure::kError:
      return "error";
    case VerifyFailure::kNone:
      break;
  }
  return "";
}

}  // namespace

VerifyReport VerifyStore(const EvidenceStore& store, const VerifyOptions& options) {
  Verifier v(options);
  return v.Run(store);
}

Result<std::vector<LogEntry>> ReadCheckpointFile(const std::string& path,
                                                 std::vector<std::string>* warnings) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("checkpoint file " + path + ": cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Status::IOError("checkpoint file " + path + ": read error");
  const std::string text = ss.str();
  std::vector<LogEntry> out;
  std::size_t pos = 0, line_no = 0;
  while (pos < text.size()) {
    ++line_no;
    const std::size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) {
      if (warnings) {
        warnings->push_back("checkpoint file " + path + ": incomplete last line " +
                            std::to_string(line_no) + " ignored (interrupted write)");
      }
      break;
    }
    auto e = ParseLogLine(std::string_view(text).substr(pos, nl - pos));
    if (!e.ok()) {
      return Status::InvalidArgument("checkpoint file " + path + " line " +
                                     std::to_string(line_no) + ": " + e.status().message());
    }
    out.push_back(std::move(e).value());
    pos = nl + 1;
  }
  return out;
}

nlohmann::json VerifyReportToJson(const VerifyReport& r) {
  nlohmann::json j;
  j["ok"] = r.ok();
  j["failure"] = r.ok() ? nlohmann::json(nullptr) : nlohmann::json(FailureName(r.failure));
  j["failed_seq"] = r.failed_seq == 0 ? nlohmann::json(nullptr) : nlohmann::json(r.failed_seq);
  j["what"] = r.what;
  j["first_seq"] = r.first_seq;
  j["last_seq"] = r.last_seq;
  j["records"] = r.records;
  j["disposed"] = r.disposed;
  j["checkpoints"] = r.checkpoints;
  j["file_checkpoints"] = r.file_checkpoints;
  j["unanchored"] = r.unanchored;
  j["key_id"] = r.key_id;
  j["disposals"] = nlohmann::json::array();
  for (const LogEntry& d : r.disposals) {
    j["disposals"].push_back({{"id", d.id},
                              {"time", FormatRfc3339(d.time_ns)},
                              {"first", d.first},
                              {"last", d.last},
                              {"count", d.count},
                              {"class_I", d.count_by_class[0]},
                              {"class_II", d.count_by_class[1]},
                              {"class_III", d.count_by_class[2]},
                              {"last_hash", ToHex(d.last_hash)}});
  }
  j["warnings"] = r.warnings;
  return j;
}

std::string VerifyReportToText(const VerifyReport& r) {
  std::string s;
  if (r.ok()) {
    s = "OK: " + std::to_string(r.records) + " records and " + std::to_string(r.disposed) +
        " disposed-of records verified (seq " + std::to_string(r.first_seq) + ".." +
        std::to_string(r.last_seq) + "), " + std::to_string(r.checkpoints) +
        " checkpoints in the store and " + std::to_string(r.file_checkpoints) +
        " in the checkpoint file match; " + std::to_string(r.unanchored) +
        " records after the last checkpoint; key " + (r.key_id.empty() ? "-" : r.key_id) + "\n";
  } else {
    s = std::string("FAILED (") + FailureName(r.failure) + ")" +
        (r.failed_seq ? " at seq " + std::to_string(r.failed_seq) : std::string()) + ": " + r.what +
        "\n";
  }
  for (const LogEntry& d : r.disposals) {
    s += "disposal " + std::to_string(d.id) + " at " + FormatRfc3339(d.time_ns) + ": " +
         std::to_string(d.count) + " records in seq " + std::to_string(d.first) + ".." +
         std::to_string(d.last) + " (class I " + std::to_string(d.count_by_class[0]) + ", II " +
         std::to_string(d.count_by_class[1]) + ", III " + std::to_string(d.count_by_class[2]) +
         "), last hash " + ToHex(d.last_hash) + "\n";
  }
  for (const std::string& w : r.warnings) s += "warning: " + w + "\n";
  return s;
}

}  // namespace mamori::storage
