// The relay check of RCPT (RFC 5321 §7.9): is a forward-path a mailbox of
// this server, or a request to pass mail on? Pure functions; the policy
// itself (who may relay) is RelayConfig in config.h.
#ifndef SMTP_HARNESS_SERVER_RELAY_POLICY_H_
#define SMTP_HARNESS_SERVER_RELAY_POLICY_H_

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "parser/path.h"

namespace smtp::server {

enum class RcptClass : std::uint8_t {
  // <Postmaster>, a local domain, or an address literal of this server.
  kLocal,
  // Another domain or address literal: relaying.
  kForeign,
  // A local domain, but the local part routes on: "%" (the %-hack, RFC 1123
  // §5.2.16), "!" (a UUCP bang path) or "@" (a quoted "user@foreign").
  // RFC 5321 §2.3.11 leaves the local part to the receiver, which may read
  // these as routes; a server that does not route refuses them.
  kRoutedLocalPart,
};

// What the server knows of itself.
struct LocalIdentity {
  std::string_view hostname;                   // always a local domain
  std::span<const std::string> local_domains;  // RelayConfig::local_domains
  std::string_view local_address;              // numeric, as the socket gives it; "" unknown
};

// Classifies a parsed forward-path. The source route is ignored (RFC 5321
// §4.1.1.3); domains compare ASCII case-insensitively, one trailing dot
// ignored; address literals compare as addresses ("[127.0.0.1]" and
// "[IPv6:::ffff:127.0.0.1]" are the same host), general literals as text.
RcptClass ClassifyRecipient(const Path& rcpt, const LocalIdentity& self);

// A 16-octet IPv6 address (IPv4 as ::ffff:a.b.c.d).
using Ip16 = std::array<std::uint8_t, 16>;

// The address of "192.0.2.1", "2001:db8::1", "[192.0.2.1]" or
// "[IPv6:2001:db8::1]" (IPv6 zone "%eth0" ignored); nullopt for anything
// else, including general literals. IPv4 octets follow RFC 5321 Snum
// (1*3DIGIT, at most 255).
std::optional<Ip16> ParseIpAddress(std::string_view text);

}  // namespace smtp::server

#endif  // SMTP_HARNESS_SERVER_RELAY_POLICY_H_
