// Verification of an evidence store: the hash chain record by record, the signed evidence
// log (checkpoints and disposal records), the tombstones of disposed records, and the
// checkpoints kept outside the store (the checkpoint file), which catch a database whose
// chain was rewritten and recomputed end to end.
//
// Verification stops at the first failure and names it: the sequence number and what failed.
// Used by `mamori verify` (offline, read-only store) and GET /api/v1/verify (the daemon's
// store). Thread-safety: VerifyStore may run on any thread, concurrently with Append.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mamori/core/status.h"
#include "mamori/storage/evidence_log.h"
#include "mamori/storage/evidence_store.h"

namespace mamori::storage {

struct VerifyOptions {
  // Verify records from..to (inclusive; to = 0: to the end). A range that does not start at 1
  // trusts the stored chain hash of record from-1 as its starting point. Default: everything.
  std::uint64_t from = 1;
  std::uint64_t to = 0;
  // External checkpoint file (evidence.checkpoint_file). "" = none. It is read before the
  // store, so checkpoints that the daemon appends meanwhile are never ahead of the view.
  std::string checkpoint_file;
  // The public key to trust (PEM). "" = the key registered in the store (weaker: whoever
  // rewrites the store can register his own; the checkpoint file still catches him, since
  // its lines carry the original key's id).
  std::string public_key_pem;
};

enum class VerifyFailure {
  kNone = 0,
  kChain,       // a record is modified, missing, inserted or reordered
  kCheckpoint,  // a signature, checkpoint or disposal record does not match
  kError,       // the store or the checkpoint file could not be read
};

struct VerifyReport {
  VerifyFailure failure = VerifyFailure::kNone;
  std::uint64_t failed_seq = 0;  // 0 when the failure is not about one record
  std::string what;              // what failed, for people
  bool ok() const { return failure == VerifyFailure::kNone; }

  std::uint64_t first_seq = 0, last_seq = 0;  // the chain positions examined
  std::uint64_t records = 0;                  // stored records verified
  std::uint64_t disposed = 0;                 // tombstones of disposed records verified
  std::uint64_t checkpoints = 0;              // store checkpoints whose head matched
  std::uint64_t file_checkpoints = 0;         // checkpoint-file checkpoints whose head matched
  std::uint64_t unanchored = 0;     // records after the last checkpoint (chained, not yet signed)
  std::vector<LogEntry> disposals;  // signed disposal records (reported to the user)
  std::string key_id;               // the key the signatures were checked against
  std::vector<std::string> warnings;
};

// Verifies the store. Never fails itself: read errors are reported as VerifyFailure::kError.
VerifyReport VerifyStore(const EvidenceStore& store, const VerifyOptions& options);

// The report as JSON: {"ok", "failure" ("chain", "checkpoint", "error" or null), "failed_seq",
// "what", "first_seq", "last_seq", "records", "disposed", "checkpoints", "file_checkpoints",
// "unanchored", "key_id", "disposals": [{id, time, first, last, count, class_I, class_II,
// class_III, last_hash}], "warnings"}.
nlohmann::json VerifyReportToJson(const VerifyReport& r);
// Human-readable text: "OK: ..." or "FAILED at seq N: ...", then disposals and warnings.
std::string VerifyReportToText(const VerifyReport& r);

// Reads a checkpoint file: one evidence log line per line. A last line without its newline
// (a crash while appending) is skipped with a warning; any other malformed line is an error
// naming the line number.
Result<std::vector<LogEntry>> ReadCheckpointFile(const std::string& path,
                                                 std::vector<std::string>* warnings);

}  // namespace mamori::storage
