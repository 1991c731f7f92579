// Test helper: tampers with a stored audit entry the way an attacker with write access to the
// RocksDB files would (the daemon must be stopped). Shared by audit_test and the audit_tamper
// tool the integration test runs.
#pragma once

#include <cstdint>
#include <string>

#include "mamori/core/status.h"

namespace mamori::auth::testutil {

// Changes the actor of entry `seq` to "mallory" and its returned count. rehash: also recompute
// the entry's own hash (then the next entry's prev_hash no longer matches).
Status TamperAuditEntry(const std::string& dir, std::uint64_t seq, bool rehash);

// Deletes every entry with seq >= from_seq (truncates the tail: the shorter chain stays valid).
Status TruncateAudit(const std::string& dir, std::uint64_t from_seq);

}  // namespace mamori::auth::testutil
