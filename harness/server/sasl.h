// SASL pieces of the server's AUTH (RFC 4954): base64 (RFC 4648 §4), the
// PLAIN message (RFC 4616), and the CRAM-MD5 digest (RFC 2195). Pure
// functions except CramMd5Digest, which uses OpenSSL.
#ifndef SMTP_HARNESS_SERVER_SASL_H_
#define SMTP_HARNESS_SERVER_SASL_H_

#include <optional>
#include <string>
#include <string_view>

namespace smtp::server {

// base64 = *(4base64-char) [base64-terminal]               (RFC 4954 §4)
// base64-char = ALPHA / DIGIT / "+" / "/"
// base64-terminal = (2base64-char "==") / (3base64-char "=")
// Canonical decoding: padding required, no whitespace, unused pad bits must
// be zero (RFC 4648 §3.5). nullopt for anything else.
std::optional<std::string> DecodeBase64(std::string_view in);
std::string EncodeBase64(std::string_view in);

// Lower-case hex of arbitrary octets ("\x01\xab" -> "01ab").
std::string LowerHex(std::string_view bytes);

// message = [authzid] UTF8NUL authcid UTF8NUL passwd        (RFC 4616 §2)
struct PlainMessage {
  std::string authzid;
  std::string authcid;
  std::string passwd;
};
// nullopt unless the decoded message has exactly two NULs and a non-empty
// authcid and passwd.
std::optional<PlainMessage> ParsePlainMessage(std::string_view decoded);

// RFC 2195 §2: lower-case hex of HMAC-MD5(key = password, text = challenge).
std::string CramMd5Digest(std::string_view password, std::string_view challenge);

}  // namespace smtp::server

#endif  // SMTP_HARNESS_SERVER_SASL_H_
