// SASL client messages for the scenario `auth` step (RFC 4954 AUTH): the
// initial responses and challenge answers of PLAIN, LOGIN, CRAM-MD5 and
// XOAUTH2, already base64-encoded for the wire. Pure functions; the SMTP
// exchange itself lives in the step executor.
#ifndef SMTP_HARNESS_RUNNER_SASL_H_
#define SMTP_HARNESS_RUNNER_SASL_H_

#include <optional>
#include <string>
#include <string_view>

namespace smtp::runner {

// RFC 4648 §4 base64 with padding, as AUTH uses it (RFC 4954 §4).
std::string Base64Encode(std::string_view bytes);
// Decodes padded base64; nullopt when `text` is not valid base64.
std::optional<std::string> Base64Decode(std::string_view text);

// RFC 4616 §2:  message = [authzid] UTF8NUL authcid UTF8NUL passwd
// Returns base64(NUL user NUL password) (empty authzid).
std::string SaslPlain(std::string_view user, std::string_view password);

// RFC 2195 §2: the client answers the server's challenge with
//   base64(user SP lowercase-hex(HMAC-MD5(key = password, challenge)))
// `challenge` is the decoded challenge (e.g. "<1896.697170952@host>").
std::string SaslCramMd5(std::string_view user, std::string_view password,
                        std::string_view challenge);

// Google/Microsoft XOAUTH2 initial client response:
//   base64("user=" user ^A "auth=Bearer " token ^A ^A)
std::string SaslXoauth2(std::string_view user, std::string_view token);

// Lowercase hex of HMAC-MD5 (RFC 2104) — exposed for tests.
std::string HmacMd5Hex(std::string_view key, std::string_view message);

}  // namespace smtp::runner

#endif  // SMTP_HARNESS_RUNNER_SASL_H_
