// audit_tamper DIR SEQ [--rehash]: modifies audit entry SEQ in the audit RocksDB at DIR (the
// daemon must be stopped). For tests/integration/test_auth.py only.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "audit_test_util.h"

int main(int argc, char** argv) {
  if (argc < 3 || argc > 4) {
    std::fprintf(stderr, "usage: audit_tamper DIR SEQ [--rehash]\n");
    return 2;
  }
  const bool rehash = argc == 4 && std::string(argv[3]) == "--rehash";
  auto st = mamori::auth::testutil::TamperAuditEntry(argv[1], std::strtoull(argv[2], nullptr, 10),
                                                     rehash);
  if (!st.ok()) {
    std::fprintf(stderr, "audit_tamper: %s\n", st.ToString().c_str());
    return 1;
  }
  return 0;
}
