// SASL messages as SMTP AUTH carries them (RFC 4954), for both ends of the
// harness: the embedded server checks them, the runner's `auth` step builds
// them. base64 (RFC 4648 §4) in a strict and a lenient reading, HMAC-MD5 in
// lower-case hex, and the messages of PLAIN (RFC 4616), CRAM-MD5 (RFC 2195)
// and XOAUTH2. LOGIN needs nothing beyond base64: its two messages are the
// user name and the password themselves.
//
// Pure functions on bytes: no I/O, no state. Built on Abseil (base64, hex)
// and OpenSSL (HMAC-MD5). Messages here are the decoded octets; the wire form
// is Base64Encode of them.
#ifndef SMTP_HARNESS_SASL_H_
#define SMTP_HARNESS_SASL_H_

#include <optional>
#include <string>
#include <string_view>

namespace smtp::sasl {

// --- base64 (RFC 4648 §4) ---------------------------------------------------
//
// base64 = *(4base64-char) [base64-terminal]               (RFC 4954 §4)
// base64-char = ALPHA / DIGIT / "+" / "/"
// base64-terminal = (2base64-char "==") / (3base64-char "=")

// The canonical encoding of `bytes`: the RFC 4648 §4 alphabet, padded with
// "=" to a multiple of four characters, no line breaks.
std::string Base64Encode(std::string_view bytes);

// Strict: accepts exactly the canonical encodings, the strings Base64Encode
// produces: the §4 alphabet, "=" padding to a multiple of four, no whitespace
// or other characters, and the unused bits before the padding zero (§3.5).
// nullopt for anything else. For what a peer sends us to check (the server's
// AUTH responses): a conformance tool must not accept what the RFC does not.
std::optional<std::string> Base64DecodeStrict(std::string_view text);

// Lenient: absl::Base64Unescape's reading. Beyond the strict form it
//   - skips ASCII whitespace (SP, HT, LF, VT, FF, CR) anywhere;
//   - accepts the final quantum without its "=" padding ("Zg" is "f"), but
//     not with part of it ("Zg=" is rejected);
//   - ignores the unused bits before the padding ("Zh==" is "f").
// Still nullopt for a character outside the alphabet, data after "=", or a
// single character in the last quantum. For what we only need to read, not
// judge (the runner reading a CRAM-MD5 challenge): the exchange goes on and
// the transcript keeps the bytes as sent.
std::optional<std::string> Base64DecodeLenient(std::string_view text);

// --- HMAC-MD5 (RFC 2104) ----------------------------------------------------

// Lower-case hex of HMAC-MD5(key, message): 32 hex digits; empty only if
// OpenSSL cannot compute MD5 (a FIPS-only build).
std::string HmacMd5Hex(std::string_view key, std::string_view message);

// --- PLAIN (RFC 4616) -------------------------------------------------------

// message = [authzid] UTF8NUL authcid UTF8NUL passwd        (RFC 4616 §2)
// Views into the octets parsed or to be serialized.
struct PlainMessage {
  std::string_view authzid = {};  // empty: act as authcid
  std::string_view authcid = {};
  std::string_view passwd = {};
  friend bool operator==(const PlainMessage&, const PlainMessage&) = default;
};

// authzid NUL authcid NUL passwd, the fields as given (a NUL inside one makes
// a message ParsePlainMessage rejects; RFC 4616 forbids it).
std::string SerializePlainMessage(const PlainMessage& m);

// nullopt unless `message` has exactly two NULs and a non-empty authcid and
// passwd. The inverse of SerializePlainMessage on every message it accepts.
std::optional<PlainMessage> ParsePlainMessage(std::string_view message);

// --- CRAM-MD5 (RFC 2195 §2) -------------------------------------------------

// The client's answer to `challenge` (the decoded challenge, e.g.
// "<1896.697170952@postoffice.reston.mci.net>"):
//   user SP lower-case-hex(HMAC-MD5(key = password, text = challenge))
std::string CramMd5Response(std::string_view user, std::string_view password,
                            std::string_view challenge);

// A CRAM-MD5 response split at its last SP (the digest holds none, the user
// name may). Views into the response.
struct CramMd5Fields {
  std::string_view user;
  std::string_view digest;
  friend bool operator==(const CramMd5Fields&, const CramMd5Fields&) = default;
};

// nullopt when `response` holds no SP. The digest is not checked here: the
// server compares it with HmacMd5Hex(password, challenge).
std::optional<CramMd5Fields> ParseCramMd5Response(std::string_view response);

// --- XOAUTH2 (Google / Microsoft) -------------------------------------------

// The initial client response:  "user=" user ^A "auth=Bearer " token ^A ^A
std::string Xoauth2Message(std::string_view user, std::string_view token);

}  // namespace smtp::sasl

#endif  // SMTP_HARNESS_SASL_H_
