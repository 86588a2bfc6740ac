// Self-signed certificates generated in-process (OpenSSL 3), for TLS tests
// and for the embedded server when no certificate is configured.
#ifndef SMTP_HARNESS_TLS_CERT_H_
#define SMTP_HARNESS_TLS_CERT_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace smtp::harness {

struct CertAndKey {
  std::string cert_pem;  // X.509 certificate, PEM
  std::string key_pem;   // PKCS#8 private key, PEM (unencrypted)
};

// A fresh P-256 key and a self-signed certificate for it: subject and issuer
// "CN=<common_name>", valid from one hour ago for `days` days, with
// subjectAltName DNS:<common_name>, IP:127.0.0.1, IP:::1 (so that host-name
// verification against loopback works when the certificate is trusted).
absl::StatusOr<CertAndKey> MakeSelfSignedCert(std::string_view common_name = "localhost",
                                              int days = 30);

}  // namespace smtp::harness

#endif  // SMTP_HARNESS_TLS_CERT_H_
