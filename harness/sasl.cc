#include "harness/sasl.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "absl/strings/escaping.h"
#include "absl/strings/string_view.h"

namespace smtp::sasl {
namespace {

// Debian's Abseil has its own string_view: convert at each Abseil call.
absl::string_view Absl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

}  // namespace

std::string Base64Encode(std::string_view bytes) { return absl::Base64Escape(Absl(bytes)); }

std::optional<std::string> Base64DecodeStrict(std::string_view text) {
  std::optional<std::string> out = Base64DecodeLenient(text);
  // Every octet string has exactly one canonical encoding (RFC 4648 §3.5:
  // pad bits zero; §4: padded, nothing outside the alphabet), so a text is
  // strict base64 exactly when it encodes back to itself: linear in the size,
  // and no second base64 table to keep in step with Abseil's.
  if (!out || Base64Encode(*out) != text) return std::nullopt;
  return out;
}

std::optional<std::string> Base64DecodeLenient(std::string_view text) {
  std::string out;
  if (!absl::Base64Unescape(Absl(text), &out)) return std::nullopt;
  return out;
}

std::string HmacMd5Hex(std::string_view key, std::string_view message) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(EVP_md5(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), md,
           &len) == nullptr) {
    return "";
  }
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(md), len));
}

std::string SerializePlainMessage(const PlainMessage& m) {
  std::string out;
  out.reserve(m.authzid.size() + m.authcid.size() + m.passwd.size() + 2);
  out.append(m.authzid).push_back('\0');
  out.append(m.authcid).push_back('\0');
  out.append(m.passwd);
  return out;
}

std::optional<PlainMessage> ParsePlainMessage(std::string_view message) {
  const std::size_t a = message.find('\0');
  if (a == std::string_view::npos) return std::nullopt;
  const std::size_t b = message.find('\0', a + 1);
  if (b == std::string_view::npos || message.find('\0', b + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  PlainMessage m{message.substr(0, a), message.substr(a + 1, b - a - 1), message.substr(b + 1)};
  if (m.authcid.empty() || m.passwd.empty()) return std::nullopt;
  return m;
}

std::string CramMd5Response(std::string_view user, std::string_view password,
                            std::string_view challenge) {
  std::string out(user);
  out.push_back(' ');
  out += HmacMd5Hex(password, challenge);
  return out;
}

std::optional<CramMd5Fields> ParseCramMd5Response(std::string_view response) {
  const std::size_t sp = response.rfind(' ');
  if (sp == std::string_view::npos) return std::nullopt;
  return CramMd5Fields{response.substr(0, sp), response.substr(sp + 1)};
}

std::string Xoauth2Message(std::string_view user, std::string_view token) {
  std::string out = "user=";
  out.append(user);
  out.append(
      "\x01"
      "auth=Bearer ");
  out.append(token);
  out.append("\x01\x01");
  return out;
}

}  // namespace smtp::sasl
