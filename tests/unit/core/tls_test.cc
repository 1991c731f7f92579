// TlsServerContext: errors name the configuration key and the file; a reload that fails keeps the
// previous context.
#include "mamori/core/tls.h"

#include <gtest/gtest.h>

#include <ctime>
#include <string>

#include "../testing/test_pki.h"

namespace mamori {
namespace {

using testing::Pki;
using testing::WriteFile;

TlsConfig Server() {
  TlsConfig t;
  t.cert_file = Pki().server;
  t.key_file = Pki().server_key;
  return t;
}

void ExpectError(const TlsConfig& t, const std::string& key, const std::string& what) {
  auto ctx = TlsServerContext::Create(t, "listeners[2].tls");
  ASSERT_FALSE(ctx.ok());
  EXPECT_NE(ctx.status().message().find(key), std::string::npos) << ctx.status().message();
  EXPECT_NE(ctx.status().message().find(what), std::string::npos) << ctx.status().message();
}

TEST(TlsServerContextTest, LoadsAndDescribesTheCertificate) {
  ASSERT_TRUE(Pki().ok);
  auto ctx = TlsServerContext::Create(Server(), "http.tls");
  ASSERT_TRUE(ctx.ok()) << ctx.status().ToString();
  EXPECT_NE((*ctx)->Get(), nullptr);
  EXPECT_NE((*ctx)->Describe().find("/CN=localhost"), std::string::npos) << (*ctx)->Describe();
  EXPECT_NE((*ctx)->Describe().find("serial 01"), std::string::npos) << (*ctx)->Describe();
  // The test certificates are valid for two days.
  const std::int64_t now = std::time(nullptr);
  EXPECT_GT((*ctx)->NotAfterSeconds(), now + 86'400);
  EXPECT_LT((*ctx)->NotAfterSeconds(), now + 3 * 86'400);
}

TEST(TlsServerContextTest, BadFilesNameTheKey) {
  ASSERT_TRUE(Pki().ok);
  const std::string garbage = Pki().Path("garbage.pem");
  WriteFile(garbage, "not a certificate\n");
  const std::string broken = Pki().Path("broken.pem");
  WriteFile(broken, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");

  TlsConfig t = Server();
  t.cert_file = Pki().Path("missing.pem");
  ExpectError(t, "listeners[2].tls.cert_file '" + t.cert_file + "'", "cannot read");
  t.cert_file = garbage;
  ExpectError(t, "listeners[2].tls.cert_file", "not a PEM certificate");
  t.cert_file = broken;
  ExpectError(t, "listeners[2].tls.cert_file", "not a usable PEM certificate");

  t = Server();
  t.key_file = garbage;
  ExpectError(t, "listeners[2].tls.key_file", "not a PEM private key");
  t.key_file = Pki().client_key;
  ExpectError(t, "listeners[2].tls.key_file", "does not match the certificate");

  t = Server();
  t.verify_client = true;
  ExpectError(t, "listeners[2].tls.ca_file", "required");
  t.ca_file = garbage;
  ExpectError(t, "listeners[2].tls.ca_file", "not a PEM CA certificate");
  t.ca_file = Pki().ca;
  EXPECT_TRUE(TlsServerContext::Create(t, "x").ok());
}

TEST(TlsServerContextTest, ReloadSwapsOnSuccessAndKeepsTheOldContextOnFailure) {
  ASSERT_TRUE(Pki().ok);
  const std::string cert = Pki().Path("reload.pem");
  const std::string key = Pki().Path("reload.key");
  ASSERT_TRUE(
      testing::Sh("cp " + Pki().server + " " + cert + " && cp " + Pki().server_key + " " + key));
  TlsConfig t;
  t.cert_file = cert;
  t.key_file = key;
  auto made = TlsServerContext::Create(t, "http.tls");
  ASSERT_TRUE(made.ok());
  auto& ctx = *made;
  auto first = ctx->Get();
  ASSERT_TRUE(ctx->Reload().ok());
  auto second = ctx->Get();
  EXPECT_NE(first, second);

  WriteFile(cert, "garbage");
  Status s = ctx->Reload();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("http.tls.cert_file"), std::string::npos) << s.message();
  EXPECT_EQ(ctx->Get(), second);
}

}  // namespace
}  // namespace mamori
