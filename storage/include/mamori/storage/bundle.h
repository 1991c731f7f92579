// Evidence bundles: a directory that carries selected records out of mamori with everything a
// third party needs to check them without mamori's database (docs/evidence.md describes the
// format for writers of independent verifiers):
//
//   MANIFEST          sha256sum(1) format: "<64 hex>  <name>" for every other file
//   public_key.pem    the store's Ed25519 public key
//   checkpoints.log   the signed checkpoints that cover the records (evidence log lines)
//   records.jsonl     one record per line: the raw bytes and receive metadata (+ the event)
//   proofs.jsonl      one chain segment per line, from the records to a covering checkpoint
//
// Thread-safety: ExportBundle may run concurrently with Append (it reads a consistent view
// per segment); VerifyBundle is a pure function of the directory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mamori/core/status.h"
#include "mamori/storage/evidence_store.h"
#include "mamori/storage/query.h"
#include "mamori/storage/verify.h"

namespace mamori::storage {

struct ExportSelection {
  // Records matching this query (all pages; limit and cursor are ignored). Either a query or
  // seqs, not both.
  std::optional<Query> query;
  // Exactly these records.
  std::vector<std::uint64_t> seqs;
  // More matching records than this is InvalidArgument (narrow the selection).
  // Default: 100,000.
  std::size_t max_records = 100'000;
};

struct ExportSummary {
  std::uint64_t records = 0;
  std::uint64_t checkpoints = 0;
  std::uint64_t proof_hashes = 0;  // digests in all proof segments
};

// Writes the bundle into out_dir, which must not exist yet (its parent must). Every selected
// record must be covered by a checkpoint already (otherwise Unavailable: retry after the next
// checkpoint) and must not have been disposed of (NotFound).
Result<ExportSummary> ExportBundle(const EvidenceStore& store, const ExportSelection& selection,
                                   const std::string& out_dir);

struct BundleReport {
  VerifyFailure failure = VerifyFailure::kNone;  // kChain: content; kCheckpoint: signatures
  std::uint64_t failed_seq = 0;
  std::string what;
  bool ok() const { return failure == VerifyFailure::kNone; }
  std::uint64_t records = 0;
  std::uint64_t checkpoints = 0;
  std::string key_id;
};

// Verifies a bundle directory: the manifest (exactly the files listed, each with its hash),
// the checkpoint signatures, every record against its proof segment and every segment
// against its checkpoint. trusted_public_key_pem: when not empty, the bundle's key must be
// this key; otherwise the caller should compare key_id with the one the operator published.
BundleReport VerifyBundle(const std::string& dir, const std::string& trusted_public_key_pem);

// Parses "1,5,9-12" into sorted unique seqs. InvalidArgument on anything else or on more
// than `max` seqs.
Result<std::vector<std::uint64_t>> ParseSeqList(std::string_view s, std::size_t max = 100'000);

}  // namespace mamori::storage
