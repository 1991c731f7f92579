// Test certificates for the TLS unit tests, made once per test binary with the `openssl` CLI
// (scripts/deps.sh installs it) in a temporary directory: a CA, a server certificate for
// localhost/127.0.0.1, a client certificate of the same CA, and a client certificate of another
// CA. EC P-256 keys, valid for two days.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <fstream>
#include <string>

namespace mamori::testing {

struct TestPki {
  std::string dir;
  std::string ca, ca_key;
  std::string server, server_key;
  std::string client, client_key;
  std::string other_ca, other_ca_key;
  std::string rogue, rogue_key;  // a client certificate signed by other_ca
  bool ok = false;

  std::string Path(const std::string& name) const { return dir + "/" + name; }
};

inline bool Sh(const std::string& cmd) {
  return std::system((cmd + " >/dev/null 2>&1").c_str()) == 0;
}

inline bool MakeCa(const TestPki& p, const std::string& name) {
  return Sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " +
            p.Path(name + ".key") + " -out " + p.Path(name + ".pem") +
            " -days 2 -subj /CN=" + name + " -addext basicConstraints=critical,CA:TRUE");
}

inline bool MakeLeaf(const TestPki& p, const std::string& ca, const std::string& name,
                     const std::string& cn, const std::string& usage, int serial) {
  {
    std::ofstream ext(p.Path(name + ".ext"));
    ext << "subjectAltName=DNS:" << cn << ",IP:127.0.0.1\nextendedKeyUsage=" << usage << "\n";
  }
  return Sh("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " +
            p.Path(name + ".key") + " -out " + p.Path(name + ".csr") + " -subj /CN=" + cn) &&
         Sh("openssl x509 -req -in " + p.Path(name + ".csr") + " -CA " + p.Path(ca + ".pem") +
            " -CAkey " + p.Path(ca + ".key") + " -set_serial " + std::to_string(serial) +
            " -days 2 -out " + p.Path(name + ".pem") + " -extfile " + p.Path(name + ".ext"));
}

// The process's PKI (made on first use; the directory is left for the OS to clean in /tmp).
inline const TestPki& Pki() {
  static const TestPki pki = [] {
    TestPki p;
    char tmpl[] = "/tmp/mamori-test-pki-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return p;
    p.dir = tmpl;
    p.ca = p.Path("ca.pem");
    p.ca_key = p.Path("ca.key");
    p.server = p.Path("server.pem");
    p.server_key = p.Path("server.key");
    p.client = p.Path("client.pem");
    p.client_key = p.Path("client.key");
    p.other_ca = p.Path("other-ca.pem");
    p.other_ca_key = p.Path("other-ca.key");
    p.rogue = p.Path("rogue.pem");
    p.rogue_key = p.Path("rogue.key");
    p.ok = MakeCa(p, "ca") && MakeCa(p, "other-ca") &&
           MakeLeaf(p, "ca", "server", "localhost", "serverAuth", 1) &&
           MakeLeaf(p, "ca", "client", "client.example", "clientAuth", 2) &&
           MakeLeaf(p, "other-ca", "rogue", "client.example", "clientAuth", 3);
    return p;
  }();
  return pki;
}

inline void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

}  // namespace mamori::testing
