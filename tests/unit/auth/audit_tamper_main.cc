// audit_tamper DIR SEQ [--rehash|--truncate]: modifies audit entry SEQ in the audit RocksDB at
// DIR, or (--truncate) deletes entries SEQ and later (the daemon must be stopped). For
// tests/integration/test_auth.py only.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "audit_test_util.h"

int main(int argc, char** argv) {
  if (argc < 3 || argc > 4) {
    std::fprintf(stderr, "usage: audit_tamper DIR SEQ [--rehash|--truncate]\n");
    return 2;
  }
  const std::string mode = argc == 4 ? argv[3] : "";
  const std::uint64_t seq = std::strtoull(argv[2], nullptr, 10);
  auto st = mode == "--truncate"
                ? mamori::auth::testutil::TruncateAudit(argv[1], seq)
                : mamori::auth::testutil::TamperAuditEntry(argv[1], seq, mode == "--rehash");
  if (!st.ok()) {
    std::fprintf(stderr, "audit_tamper: %s\n", st.ToString().c_str());
    return 1;
  }
  return 0;
}
