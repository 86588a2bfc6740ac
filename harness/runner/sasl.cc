#include "harness/runner/sasl.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "absl/strings/escaping.h"

namespace smtp::runner {

std::string Base64Encode(std::string_view bytes) {
  return absl::Base64Escape(absl::string_view(bytes.data(), bytes.size()));
}

std::optional<std::string> Base64Decode(std::string_view text) {
  // absl accepts unpadded input too; AUTH requires padding (RFC 4954 §4
  // refers to RFC 4648 base64), but a lenient decoder is right for reading
  // challenges: the exchange still works and the transcript shows the bytes.
  std::string out;
  if (!absl::Base64Unescape(absl::string_view(text.data(), text.size()), &out)) {
    return std::nullopt;
  }
  return out;
}

std::string SaslPlain(std::string_view user, std::string_view password) {
  std::string msg;
  msg.reserve(user.size() + password.size() + 2);
  msg.push_back('\0');
  msg.append(user);
  msg.push_back('\0');
  msg.append(password);
  return Base64Encode(msg);
}

std::string HmacMd5Hex(std::string_view key, std::string_view message) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_md5(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0xf]);
  }
  return hex;
}

std::string SaslCramMd5(std::string_view user, std::string_view password,
                        std::string_view challenge) {
  std::string msg(user);
  msg.push_back(' ');
  msg += HmacMd5Hex(password, challenge);
  return Base64Encode(msg);
}

std::string SaslXoauth2(std::string_view user, std::string_view token) {
  std::string msg = "user=";
  msg.append(user);
  msg +=
      "\x01"
      "auth=Bearer ";
  msg.append(token);
  msg += "\x01\x01";
  return Base64Encode(msg);
}

}  // namespace smtp::runner
