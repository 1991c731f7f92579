// Shared by the store verifier (verify.cc) and the bundle verifier (bundle.cc), whose reports
// (VerifyReport, BundleReport) both carry failure, failed_seq and what.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "mamori/storage/verify.h"

namespace mamori::storage::internal {

// Records a failure in *report unless one is recorded already (the first failure is the one
// reported). Returns false, so that a check can `return Fail(...)`.
template <typename Report>
bool RecordFirstFailure(Report* report, VerifyFailure f, std::uint64_t seq, std::string what) {
  if (report->ok()) {
    report->failure = f;
    report->failed_seq = seq;
    report->what = std::move(what);
  }
  return false;
}

}  // namespace mamori::storage::internal
