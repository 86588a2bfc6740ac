#include "harness/tls_cert.h"

#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace smtp::harness {
namespace {

struct Free {
  void operator()(X509* p) const { X509_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
};

std::unique_ptr<X509, Free> ParseCert(const std::string& pem) {
  std::unique_ptr<BIO, Free> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return std::unique_ptr<X509, Free>(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

std::unique_ptr<EVP_PKEY, Free> ParseKey(const std::string& pem) {
  std::unique_ptr<BIO, Free> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return std::unique_ptr<EVP_PKEY, Free>(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

TEST(MakeSelfSignedCert, ValidSelfSignedCertificateWithMatchingKey) {
  auto ck = MakeSelfSignedCert("mx.example.test", 7);
  ASSERT_TRUE(ck.ok()) << ck.status();
  EXPECT_TRUE(ck->cert_pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
  EXPECT_TRUE(ck->key_pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
  auto cert = ParseCert(ck->cert_pem);
  auto key = ParseKey(ck->key_pem);
  ASSERT_TRUE(cert && key);
  EXPECT_EQ(X509_check_private_key(cert.get(), key.get()), 1);
  // Self-signed: the signature verifies with its own public key.
  EXPECT_EQ(X509_verify(cert.get(), key.get()), 1);

  char cn[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()), NID_commonName, cn, sizeof cn);
  EXPECT_STREQ(cn, "mx.example.test");
  EXPECT_EQ(X509_check_host(cert.get(), "mx.example.test", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_host(cert.get(), "other.example.test", 0, 0, nullptr), 0);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "::1", 0), 1);

  // Valid now, not after `days`.
  EXPECT_LT(X509_cmp_current_time(X509_get0_notBefore(cert.get())), 0);
  EXPECT_GT(X509_cmp_current_time(X509_get0_notAfter(cert.get())), 0);
  time_t in_8_days = time(nullptr) + 8 * 24 * 3600;
  EXPECT_LT(X509_cmp_time(X509_get0_notAfter(cert.get()), &in_8_days), 0);
}

TEST(MakeSelfSignedCert, FreshKeyEachTime) {
  auto a = MakeSelfSignedCert();
  auto b = MakeSelfSignedCert();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->key_pem, b->key_pem);
  EXPECT_NE(a->cert_pem, b->cert_pem);
}

}  // namespace
}  // namespace smtp::harness
