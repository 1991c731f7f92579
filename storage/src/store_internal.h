// Internals shared by the EvidenceStore source files (evidence_store.cc, evidence_ops.cc).
#pragma once

#include <rocksdb/db.h>

#include <string>
#include <string_view>
#include <vector>

#include "mamori/core/status.h"
#include "mamori/storage/evidence_store.h"

namespace mamori::storage {

struct EvidenceStore::Handles {
  std::vector<rocksdb::ColumnFamilyHandle*> all;  // owned; destroyed before the DB closes
  rocksdb::ColumnFamilyHandle* records = nullptr;
  rocksdb::ColumnFamilyHandle* time_idx = nullptr;
  rocksdb::ColumnFamilyHandle* host_idx = nullptr;
  rocksdb::ColumnFamilyHandle* meta = nullptr;
  rocksdb::ColumnFamilyHandle* disposed = nullptr;  // tombstones of disposed records
  rocksdb::ColumnFamilyHandle* evidence = nullptr;  // evidence log: checkpoints, disposals
  std::string secondary_dir;  // read-only mode: the secondary instance's own directory
};

namespace internal {

inline Status FromRocks(const rocksdb::Status& s, std::string_view context) {
  const std::string msg = std::string(context) + ": " + s.ToString();
  if (s.IsCorruption()) return Status::Corruption(msg);
  if (s.IsNotFound()) return Status::NotFound(msg);
  if (s.IsInvalidArgument()) return Status::InvalidArgument(msg);
  if (s.IsBusy() || s.IsTryAgain() || s.IsIncomplete()) return Status::Unavailable(msg);
  return Status::IOError(msg);
}

}  // namespace internal
}  // namespace mamori::storage
