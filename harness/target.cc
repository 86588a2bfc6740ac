// Targets: the textual forms of transport.h's Target (ParseTarget, ToString).
#include "harness/transport.h"

#include <charconv>
#include <string>
#include <string_view>

namespace smtp::harness {
namespace {

bool ParsePort(std::string_view s, std::uint16_t* port) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size() || value == 0 || value > 65535) {
    return false;
  }
  *port = static_cast<std::uint16_t>(value);
  return true;
}

// host[:port] | "[" v6 "]" [":" port]
absl::Status ParseHostPort(std::string_view spec, Target* t) {
  std::string_view host = spec;
  std::string_view port;
  if (!spec.empty() && spec.front() == '[') {
    const std::size_t close = spec.find(']');
    if (close == std::string_view::npos) return absl::InvalidArgumentError("target: missing ']'");
    host = spec.substr(1, close - 1);
    std::string_view rest = spec.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return absl::InvalidArgumentError("target: junk after ']'");
      port = rest.substr(1);
      if (port.empty()) return absl::InvalidArgumentError("target: empty port");
    }
  } else if (const std::size_t colon = spec.rfind(':'); colon != std::string_view::npos) {
    if (spec.find(':') != colon) {
      return absl::InvalidArgumentError("target: IPv6 address must be in brackets: [::1]:25");
    }
    host = spec.substr(0, colon);
    port = spec.substr(colon + 1);
    if (port.empty()) return absl::InvalidArgumentError("target: empty port");
  }
  if (host.empty()) return absl::InvalidArgumentError("target: empty host");
  // A number alone resolves as an IPv4 address ("3025" is 0.0.11.209):
  // never what was meant.
  if (host.find_first_not_of("0123456789") == std::string_view::npos) {
    return absl::InvalidArgumentError(
        port.empty() ? "'" + std::string(host) +
                           "' is a port alone: give HOST:PORT, e.g. 127.0.0.1:" + std::string(host)
                     : "'" + std::string(host) + "' is a number, not a host: give HOST:PORT");
  }
  if (host.find_first_of(" \t\r\n/") != std::string_view::npos) {
    return absl::InvalidArgumentError("target: bad character in host");
  }
  if (!port.empty() && !ParsePort(port, &t->port)) {
    return absl::InvalidArgumentError("target: bad port");
  }
  t->host.assign(host);
  return absl::OkStatus();
}

}  // namespace

std::string Target::ToString() const {
  const std::string lmtp_prefix = lmtp ? "lmtp:" : "";
  switch (kind) {
    case Kind::kExec:
      return lmtp_prefix + "exec:" + command;
    case Kind::kTcp:
    case Kind::kTls: {
      std::string out = lmtp_prefix + (kind == Kind::kTls ? "tls:" : "");
      if (host.find(':') != std::string::npos) {
        out += "[" + host + "]";
      } else {
        out += host;
      }
      return out + ":" + std::to_string(port);
    }
  }
  return {};
}

absl::StatusOr<Target> ParseTarget(std::string_view spec) {
  Target t;
  // A URL (smtp://HOST:PORT) is a common first guess: say what to write.
  if (const std::size_t scheme = spec.find("://"); scheme != std::string_view::npos &&
                                                   !spec.starts_with("exec:") &&
                                                   !spec.starts_with("lmtp:exec:")) {
    const std::string_view name = spec.substr(0, scheme);
    std::string rest(spec.substr(scheme + 3));
    while (!rest.empty() && rest.back() == '/') rest.pop_back();
    const std::string prefix = name == "smtps" ? "tls:" : name == "lmtp" ? "lmtp:" : "";
    return absl::InvalidArgumentError("'" + std::string(spec) +
                                      "' is a URL: give HOST:PORT (tls:HOST:PORT for implicit "
                                      "TLS, lmtp:HOST:PORT for LMTP), here " +
                                      prefix + rest);
  }
  if (spec.starts_with("lmtp:")) {
    t.lmtp = true;
    t.port = 24;  // RFC 2033 §4: never 25; 24 is the usual port
    spec.remove_prefix(5);
  }
  if (spec.starts_with("exec:")) {
    t.kind = Target::Kind::kExec;
    t.command.assign(spec.substr(5));
    if (t.command.empty()) return absl::InvalidArgumentError("target: empty exec: command");
    return t;
  }
  if (spec.starts_with("tls:")) {
    t.kind = Target::Kind::kTls;
    t.port = 465;
    spec.remove_prefix(4);
  } else if (spec.starts_with("tcp:")) {
    spec.remove_prefix(4);
  }
  if (absl::Status s = ParseHostPort(spec, &t); !s.ok()) return s;
  return t;
}

}  // namespace smtp::harness
