// The evidence log: signed checkpoints over the hash chain and signed disposal records. Each
// entry is one line of ASCII text (storage/FORMAT.md, "Evidence log"), identical in the store
// (column family `evidence`), in the external checkpoint file and in RFC 5424 messages:
//
//   mamori-checkpoint v1 id=3 time=1764198989000000000 key=0123456789abcdef seq=120
//     head=<64 hex> sig=<128 hex>
//   mamori-checkpoint v2 id=5 time=... key=... seq=130 head=<64 hex> audit_seq=17
//     audit_head=<64 hex> sig=<128 hex>
//   mamori-disposal v1 id=4 time=... key=... first=1 last=90 count=80 class_I=80
//     class_II=0 class_III=0 set=<64 hex> last_hash=<64 hex> sig=<128 hex>
//
// A v2 checkpoint also signs the head of another hash chain, the API audit trail (the daemon
// supplies it; storage does not know what it is): "after audit entry audit_seq, its hash was
// audit_head" (audit_seq 0 and a zero hash: an empty audit trail). A checkpoint without one
// is written as v1, byte for byte as before, so old lines still parse and verify.
//
// The signature is Ed25519 over the bytes of the line before " sig=". Entry ids count from 1
// without gaps, checkpoints and disposals sharing one sequence.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mamori/core/status.h"
#include "mamori/storage/chain.h"
#include "mamori/storage/signing.h"

namespace mamori::storage {

// The head of another hash chain signed along with a checkpoint (v2): the audit trail's.
struct ExtraAnchor {
  std::uint64_t seq = 0;  // its last entry (0: empty)
  Hash head{};            // that entry's hash (zeros when empty)
  bool operator==(const ExtraAnchor&) const = default;
};

struct LogEntry {
  enum class Kind { kCheckpoint, kDisposal };
  Kind kind = Kind::kCheckpoint;
  std::uint64_t id = 0;
  std::int64_t time_ns = 0;
  std::string key_id;
  // Checkpoint: the chain head h_seq after record `seq`.
  std::uint64_t seq = 0;
  Hash head{};
  // Checkpoint: the audit trail's head at that moment (v2 lines only; nullopt = v1).
  std::optional<ExtraAnchor> audit;
  // Disposal: the records disposed of in this disposal, all with first <= seq <= last.
  std::uint64_t first = 0, last = 0, count = 0;
  std::array<std::uint64_t, 3> count_by_class{};  // class I, II, III
  Hash set{};             // SHA-256 over the 8-byte big-endian seqs disposed of, ascending
  Hash last_hash{};       // h_last: the chain hash of the last record disposed of
  std::string signature;  // 64 bytes

  // The signed part of the line (everything before " sig=").
  std::string SignedText() const;
  // The whole line, without a trailing newline.
  std::string Line() const;
};

// Fills key_id and signature.
void SignEntry(const SigningKey& key, LogEntry* e);
// Parses one line (without its newline). Anything that is not exactly the canonical form is
// InvalidArgument (so that a changed byte can never parse to the same entry).
Result<LogEntry> ParseLogLine(std::string_view line);
// Whether the entry's key id is the key's and its signature verifies.
bool VerifyEntry(const LogEntry& e, const PublicKey& key);

}  // namespace mamori::storage
