#include "harness/server/serve_main.h"

#include <charconv>
#include <chrono>
#include <fstream>
#include <sstream>
#include <utility>

#include "harness/server/server.h"
#include "parser/ascii.h"
#include "results/absl_compat.h"
#include "results/atomic_file.h"

namespace smtp::server {
namespace {

absl::Status Bad(std::string_view flag, std::string_view why) {
  return absl::InvalidArgumentError("--" + std::string(flag) + ": " + std::string(why));
}

absl::StatusOr<std::string> ReadFile(const std::string& path, std::string_view flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Bad(flag, "cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// In FaultPointsFlag's order.
constexpr std::pair<std::string_view, FaultPoint> kFaultPointNames[] = {
    {"greeting", kFaultGreeting}, {"helo", kFaultHelo}, {"mail", kFaultMail},
    {"rcpt", kFaultRcpt},         {"data", kFaultData}, {"data_end", kFaultDataEnd},
    {"other", kFaultOther},
};

constexpr std::pair<std::string_view, AuthAdvertise> kAuthAdvertiseNames[] = {
    {"always", AuthAdvertise::kAlways},
    {"tls", AuthAdvertise::kAfterTls},
    {"never", AuthAdvertise::kNever},
};

constexpr std::string_view kMaildirPrefix = "maildir:";
constexpr std::string_view kJsonlPrefix = "jsonl:";

}  // namespace

absl::Status ParseListenFlag(std::string_view spec, ServerConfig* c) {
  std::string_view host = c->listen_address;
  std::string_view port = spec;
  if (!spec.empty() && spec[0] == '[') {
    const std::size_t close = spec.find(']');
    if (close == std::string_view::npos || close + 1 >= spec.size() || spec[close + 1] != ':') {
      return Bad("listen", "expected [ADDRESS]:PORT");
    }
    host = spec.substr(1, close - 1);
    port = spec.substr(close + 2);
  } else if (const std::size_t colon = spec.rfind(':'); colon != std::string_view::npos) {
    if (spec.find(':') != colon) return Bad("listen", "IPv6 addresses need brackets");
    if (colon > 0) host = spec.substr(0, colon);
    port = spec.substr(colon + 1);
  }
  unsigned value = 0;
  auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || p != port.data() + port.size() || value > 65535 || port.empty()) {
    return Bad("listen", "bad port '" + std::string(port) + "'");
  }
  c->listen_address = std::string(host);
  c->port = static_cast<std::uint16_t>(value);
  return absl::OkStatus();
}

absl::Status ParseBehaviorFlag(std::string_view name, ServerConfig* c) {
  std::optional<Profile> profile = ParseProfile(name);
  if (!profile) return Bad("behavior", "expected strict, lenient, slow, faulty or planted");
  c->profile = *profile;
  return absl::OkStatus();
}

absl::Status ParseSinkFlag(std::string_view spec, ServerConfig* c) {
  if (spec == "discard") {
    c->sink.kind = SinkConfig::Kind::kDiscard;
  } else if (spec.substr(0, kMaildirPrefix.size()) == kMaildirPrefix &&
             spec.size() > kMaildirPrefix.size()) {
    c->sink.kind = SinkConfig::Kind::kMaildir;
    c->sink.path = std::string(spec.substr(kMaildirPrefix.size()));
  } else if (spec.substr(0, kJsonlPrefix.size()) == kJsonlPrefix &&
             spec.size() > kJsonlPrefix.size()) {
    c->sink.kind = SinkConfig::Kind::kJsonl;
    c->sink.path = std::string(spec.substr(kJsonlPrefix.size()));
  } else {
    return Bad("sink", "expected discard, maildir:DIR or jsonl:FILE");
  }
  return absl::OkStatus();
}

absl::Status ParseFaultPointsFlag(std::string_view spec, ServerConfig* c) {
  if (spec == "all") {
    c->faults.points = kAllFaultPoints;
    return absl::OkStatus();
  }
  std::uint32_t points = 0;
  std::size_t start = 0;
  while (start <= spec.size()) {
    std::size_t end = spec.find(',', start);
    if (end == std::string_view::npos) end = spec.size();
    const std::string_view name = spec.substr(start, end - start);
    bool found = false;
    for (const auto& [n, bit] : kFaultPointNames) {
      if (n == name) {
        points |= bit;
        found = true;
      }
    }
    if (!found) return Bad("fault_points", "unknown point '" + std::string(name) + "'");
    start = end + 1;
  }
  c->faults.points = points;
  return absl::OkStatus();
}

absl::Status ParseUsersFlag(const std::vector<std::string>& pairs, ServerConfig* c) {
  for (const std::string& u : pairs) {
    const std::size_t colon = u.find(':');
    if (colon == std::string::npos || colon == 0) return Bad("users", "expected USER:PASSWORD");
    c->credentials.emplace_back(u.substr(0, colon), u.substr(colon + 1));
  }
  return absl::OkStatus();
}

absl::Status ParseAuthAdvertiseFlag(std::string_view name, ServerConfig* c) {
  for (const auto& [n, value] : kAuthAdvertiseNames) {
    if (n == name) {
      c->auth_advertise = value;
      return absl::OkStatus();
    }
  }
  return Bad("auth_advertise", "expected always, tls or never");
}

absl::Status ParseEarlyDataFlag(std::string_view name, ServerConfig* c) {
  if (name == "reject") {
    c->reject_early_data = true;
  } else if (name == "accept") {
    c->reject_early_data = false;
  } else if (name == "profile") {
    c->reject_early_data = std::nullopt;
  } else {
    return Bad("early_data", "expected profile, reject or accept");
  }
  return absl::OkStatus();
}

absl::Status ParseDisableExtensionsFlag(const std::vector<std::string>& names, ServerConfig* c) {
  ExtensionConfig& e = c->extensions;
  for (const std::string& name : names) {
    const std::string n = ToUpperCopy(name);
    bool* flag = n == "PIPELINING"            ? &e.pipelining
                 : n == "SIZE"                ? &e.size
                 : n == "8BITMIME"            ? &e.eightbitmime
                 : n == "ENHANCEDSTATUSCODES" ? &e.enhancedstatuscodes
                 : n == "SMTPUTF8"            ? &e.smtputf8
                 : n == "DSN"                 ? &e.dsn
                 : n == "CHUNKING"            ? &e.chunking
                 : n == "BINARYMIME"          ? &e.binarymime
                 : n == "STARTTLS"            ? &e.starttls
                                              : nullptr;
    if (flag == nullptr) return Bad("disable_extensions", "unknown extension '" + name + "'");
    *flag = false;
  }
  return absl::OkStatus();
}

absl::Status ParseTlsFileFlags(const std::string& cert_file, const std::string& key_file,
                               ServerConfig* c) {
  if (cert_file.empty() != key_file.empty()) {
    return Bad("tls_cert_file", "--tls_cert_file and --tls_key_file go together");
  }
  if (cert_file.empty()) return absl::OkStatus();
  absl::StatusOr<std::string> cert = ReadFile(cert_file, "tls_cert_file");
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadFile(key_file, "tls_key_file");
  if (!key.ok()) return key.status();
  c->tls.cert_pem = *std::move(cert);
  c->tls.key_pem = *std::move(key);
  return absl::OkStatus();
}

absl::Status CheckServeConfig(const ServerConfig& c) {
  using std::chrono::milliseconds;
  if (c.max_connections == 0) return Bad("max_connections", "must be at least 1");
  if (c.idle_timeout <= milliseconds(0)) return Bad("idle_timeout_ms", "must be positive");
  if (c.data_timeout <= milliseconds(0)) return Bad("data_timeout_ms", "must be positive");
  if (c.shutdown_grace < milliseconds(0)) return Bad("shutdown_grace_ms", "must not be negative");
  if (c.slow.reply_delay < milliseconds(0)) return Bad("slow_delay_ms", "must not be negative");
  const FaultOptions& f = c.faults;
  for (double r : {f.temp_fail_rate, f.shutdown_rate, f.disconnect_rate}) {
    if (!(r >= 0 && r <= 1)) return Bad("fault_*_rate", "rates are in [0, 1]");
  }
  if (f.temp_fail_rate + f.shutdown_rate + f.disconnect_rate > 1) {
    return Bad("fault_*_rate", "rates add up to more than 1");
  }
  for (const std::string& d : c.relay.local_domains) {
    if (d.empty()) return Bad("local_domains", "empty domain");
  }
  if (c.pregreet_delay < milliseconds(0)) return Bad("pregreet_delay_ms", "must not be negative");
  return absl::OkStatus();
}

std::string SinkFlag(const SinkConfig& sink) {
  switch (sink.kind) {
    case SinkConfig::Kind::kDiscard:
      return "discard";
    case SinkConfig::Kind::kMaildir:
      return std::string(kMaildirPrefix) + sink.path;
    case SinkConfig::Kind::kJsonl:
      return std::string(kJsonlPrefix) + sink.path;
    case SinkConfig::Kind::kMemory:
      break;
  }
  return "memory";
}

std::string FaultPointsFlag(std::uint32_t points) {
  if ((points & kAllFaultPoints) == kAllFaultPoints) return "all";
  std::string out;
  for (const auto& [name, bit] : kFaultPointNames) {
    if ((points & bit) == 0) continue;
    if (!out.empty()) out += ',';
    out += name;
  }
  return out;
}

std::string AuthAdvertiseFlag(AuthAdvertise advertise) {
  for (const auto& [name, value] : kAuthAdvertiseNames) {
    if (value == advertise) return std::string(name);
  }
  return "tls";
}

std::string EarlyDataFlag(std::optional<bool> reject_early_data) {
  if (!reject_early_data) return "profile";
  return *reject_early_data ? "reject" : "accept";
}

absl::Status WritePortFile(const std::string& path, std::uint16_t port) {
  return WriteFileAtomic(path, std::to_string(port) + "\n");
}

int RunServeMain(const ServeOptions& options, std::FILE* out, std::FILE* err) {
  if (absl::Status s = CheckServeConfig(options.config); !s.ok()) {
    std::fprintf(err, "smtp-harness serve: %s\n", Message(s).c_str());
    return 2;
  }
  ServerConfig config = options.config;
  if (options.verbose) {
    config.log_hook = [err](std::uint64_t id, std::string_view line) {
      std::fprintf(err, "session %llu: %.*s\n", static_cast<unsigned long long>(id),
                   static_cast<int>(line.size()), line.data());
    };
  }
  const std::string banner =
      "profile " + std::string(ProfileName(config.profile)) + ", sink " + SinkFlag(config.sink);
  Server server(std::move(config));
  absl::StatusOr<Endpoint> ep = server.Bind();
  if (!ep.ok()) {
    std::fprintf(err, "smtp-harness serve: %s\n", Message(ep.status()).c_str());
    return 2;  // a usage error: the address given cannot be used
  }
  std::fprintf(out, "smtp-harness serve: listening on %s (%s)\n", ep->ToString().c_str(),
               banner.c_str());
  std::fflush(out);
  if (!options.port_file.empty()) {
    if (absl::Status s = WritePortFile(options.port_file, ep->port); !s.ok()) {
      std::fprintf(err, "smtp-harness serve: %s\n", Message(s).c_str());
      return 1;
    }
  }
  absl::Status s = server.Run(/*stop_on_signals=*/true);
  if (!s.ok()) {
    std::fprintf(err, "smtp-harness serve: %s\n", Message(s).c_str());
    return 1;
  }
  const ServerStats st = server.stats();
  std::fprintf(out, "smtp-harness serve: stopped after %llu connections, %llu messages\n",
               static_cast<unsigned long long>(st.connections_accepted),
               static_cast<unsigned long long>(st.messages_accepted));
  return 0;
}

}  // namespace smtp::server
