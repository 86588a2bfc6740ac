#include "harness/server/serve_main.h"

#include <charconv>
#include <fstream>
#include <sstream>

#include "harness/server/server.h"

namespace smtp::server {
namespace {

absl::Status Bad(std::string_view flag, std::string_view why) {
  return absl::InvalidArgumentError("--" + std::string(flag) + ": " + std::string(why));
}

std::string Upper(std::string s) {
  for (char& c : s) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
  }
  return s;
}

absl::StatusOr<std::string> ReadFile(const std::string& path, std::string_view flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Bad(flag, "cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// HOST:PORT, [V6]:PORT, :PORT, PORT.
absl::Status ParseListen(const std::string& spec, ServerConfig* c) {
  std::string host = c->listen_address;
  std::string port = spec;
  if (!spec.empty() && spec[0] == '[') {
    const std::size_t close = spec.find(']');
    if (close == std::string::npos || close + 1 >= spec.size() || spec[close + 1] != ':') {
      return Bad("listen", "expected [ADDRESS]:PORT");
    }
    host = spec.substr(1, close - 1);
    port = spec.substr(close + 2);
  } else if (const std::size_t colon = spec.rfind(':'); colon != std::string::npos) {
    if (spec.find(':') != colon) return Bad("listen", "IPv6 addresses need brackets");
    if (colon > 0) host = spec.substr(0, colon);
    port = spec.substr(colon + 1);
  }
  unsigned value = 0;
  auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || p != port.data() + port.size() || value > 65535 || port.empty()) {
    return Bad("listen", "bad port '" + port + "'");
  }
  c->listen_address = host;
  c->port = static_cast<std::uint16_t>(value);
  return absl::OkStatus();
}

absl::Status ParseFaultPoints(const std::string& spec, std::uint32_t* points) {
  static constexpr std::pair<std::string_view, FaultPoint> kNames[] = {
      {"greeting", kFaultGreeting}, {"helo", kFaultHelo}, {"mail", kFaultMail},
      {"rcpt", kFaultRcpt},         {"data", kFaultData}, {"data_end", kFaultDataEnd},
      {"other", kFaultOther},
  };
  if (spec == "all") {
    *points = kAllFaultPoints;
    return absl::OkStatus();
  }
  *points = 0;
  std::size_t start = 0;
  while (start <= spec.size()) {
    std::size_t end = spec.find(',', start);
    if (end == std::string::npos) end = spec.size();
    const std::string_view name = std::string_view(spec).substr(start, end - start);
    bool found = false;
    for (const auto& [n, bit] : kNames) {
      if (n == name) {
        *points |= bit;
        found = true;
      }
    }
    if (!found) return Bad("fault_points", "unknown point '" + std::string(name) + "'");
    start = end + 1;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ServerConfig> ConfigFromFlags(const ServeFlags& f) {
  ServerConfig c;
  if (absl::Status s = ParseListen(f.listen, &c); !s.ok()) return s;
  c.hostname = f.hostname;
  std::optional<Profile> profile = ParseProfile(f.profile);
  if (!profile) return Bad("profile", "expected strict, lenient, slow or faulty");
  c.profile = *profile;
  c.lmtp = f.lmtp;

  if (f.sink == "discard") {
    c.sink.kind = SinkConfig::Kind::kDiscard;
  } else if (f.sink.rfind("maildir:", 0) == 0 && f.sink.size() > 8) {
    c.sink.kind = SinkConfig::Kind::kMaildir;
    c.sink.path = f.sink.substr(8);
  } else if (f.sink.rfind("jsonl:", 0) == 0 && f.sink.size() > 6) {
    c.sink.kind = SinkConfig::Kind::kJsonl;
    c.sink.path = f.sink.substr(6);
  } else {
    return Bad("sink", "expected discard, maildir:DIR or jsonl:FILE");
  }
  c.sink.body_limit = f.sink_body_limit;

  c.max_message_size = f.max_message_size;
  c.trace_header = f.trace_header;
  c.refuse_sessions = f.refuse_sessions;
  c.max_recipients = f.max_recipients;
  c.max_errors = f.max_errors;
  if (f.max_connections == 0) return Bad("max_connections", "must be at least 1");
  c.max_connections = f.max_connections;
  c.max_connections_per_ip = f.max_connections_per_ip;
  if (f.idle_timeout_ms <= 0) return Bad("idle_timeout_ms", "must be positive");
  if (f.data_timeout_ms <= 0) return Bad("data_timeout_ms", "must be positive");
  if (f.shutdown_grace_ms < 0) return Bad("shutdown_grace_ms", "must not be negative");
  if (f.slow_delay_ms < 0) return Bad("slow_delay_ms", "must not be negative");
  c.idle_timeout = std::chrono::milliseconds(f.idle_timeout_ms);
  c.data_timeout = std::chrono::milliseconds(f.data_timeout_ms);
  c.shutdown_grace = std::chrono::milliseconds(f.shutdown_grace_ms);
  c.slow.reply_delay = std::chrono::milliseconds(f.slow_delay_ms);

  c.faults.seed = f.fault_seed;
  for (double r : {f.fault_temp_rate, f.fault_421_rate, f.fault_disconnect_rate}) {
    if (!(r >= 0 && r <= 1)) return Bad("fault_*_rate", "rates are in [0, 1]");
  }
  if (f.fault_temp_rate + f.fault_421_rate + f.fault_disconnect_rate > 1) {
    return Bad("fault_*_rate", "rates add up to more than 1");
  }
  c.faults.temp_fail_rate = f.fault_temp_rate;
  c.faults.shutdown_rate = f.fault_421_rate;
  c.faults.disconnect_rate = f.fault_disconnect_rate;
  if (absl::Status s = ParseFaultPoints(f.fault_points, &c.faults.points); !s.ok()) return s;

  c.tls.enabled = f.tls || f.implicit_tls;
  c.tls.implicit = f.implicit_tls;
  if (f.tls_cert_file.empty() != f.tls_key_file.empty()) {
    return Bad("tls_cert_file", "--tls_cert_file and --tls_key_file go together");
  }
  if (!f.tls_cert_file.empty()) {
    absl::StatusOr<std::string> cert = ReadFile(f.tls_cert_file, "tls_cert_file");
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadFile(f.tls_key_file, "tls_key_file");
    if (!key.ok()) return key.status();
    c.tls.cert_pem = *cert;
    c.tls.key_pem = *key;
  }

  for (const std::string& u : f.users) {
    const std::size_t colon = u.find(':');
    if (colon == std::string::npos || colon == 0) return Bad("users", "expected USER:PASSWORD");
    c.credentials.emplace_back(u.substr(0, colon), u.substr(colon + 1));
  }
  if (f.auth_advertise == "always") {
    c.auth_advertise = AuthAdvertise::kAlways;
  } else if (f.auth_advertise == "tls") {
    c.auth_advertise = AuthAdvertise::kAfterTls;
  } else if (f.auth_advertise == "never") {
    c.auth_advertise = AuthAdvertise::kNever;
  } else {
    return Bad("auth_advertise", "expected always, tls or never");
  }
  c.require_tls = f.require_tls;
  c.require_auth = f.require_auth;

  for (const std::string& d : f.local_domains) {
    if (d.empty()) return Bad("local_domains", "empty domain");
  }
  c.relay.local_domains = f.local_domains;
  c.relay.open_relay = f.open_relay;
  if (f.pregreet_delay_ms < 0) return Bad("pregreet_delay_ms", "must not be negative");
  c.pregreet_delay = std::chrono::milliseconds(f.pregreet_delay_ms);
  if (f.early_data == "reject") {
    c.reject_early_data = true;
  } else if (f.early_data == "accept") {
    c.reject_early_data = false;
  } else if (f.early_data != "profile") {
    return Bad("early_data", "expected profile, reject or accept");
  }

  ExtensionConfig& e = c.extensions;
  for (const std::string& name : f.disable_extensions) {
    const std::string n = Upper(name);
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
  if (f.verbose) {
    c.log_hook = [](std::uint64_t id, std::string_view line) {
      std::fprintf(stderr, "session %llu: %.*s\n", static_cast<unsigned long long>(id),
                   static_cast<int>(line.size()), line.data());
    };
  }
  return c;
}

int RunServeMain(const ServeFlags& flags, std::FILE* out, std::FILE* err) {
  absl::StatusOr<ServerConfig> config = ConfigFromFlags(flags);
  if (!config.ok()) {
    std::fprintf(err, "smtp-harness serve: %s\n", std::string(config.status().message()).c_str());
    return 2;
  }
  Server server(*config);
  absl::StatusOr<Endpoint> ep = server.Bind();
  if (!ep.ok()) {
    std::fprintf(err, "smtp-harness serve: %s\n", std::string(ep.status().message()).c_str());
    return 1;
  }
  std::fprintf(out, "smtp-harness serve: listening on %s (profile %s, sink %s)\n",
               ep->ToString().c_str(), std::string(ProfileName(config->profile)).c_str(),
               flags.sink.c_str());
  std::fflush(out);
  if (!flags.port_file.empty()) {
    // Written aside and renamed, so a reader never sees a partial number.
    const std::string tmp = flags.port_file + ".tmp";
    std::ofstream pf(tmp, std::ios::trunc);
    pf << ep->port << "\n";
    pf.close();
    if (!pf || std::rename(tmp.c_str(), flags.port_file.c_str()) != 0) {
      std::fprintf(err, "smtp-harness serve: cannot write %s\n", flags.port_file.c_str());
      return 1;
    }
  }
  absl::Status s = server.Run(/*stop_on_signals=*/true);
  if (!s.ok()) {
    std::fprintf(err, "smtp-harness serve: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  const ServerStats st = server.stats();
  std::fprintf(out, "smtp-harness serve: stopped after %llu connections, %llu messages\n",
               static_cast<unsigned long long>(st.connections_accepted),
               static_cast<unsigned long long>(st.messages_accepted));
  return 0;
}

}  // namespace smtp::server
