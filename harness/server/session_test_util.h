// Drives a Session (sans-I/O) in tests, as server.cc would, and collects what
// it did. Header-only; shared by session_test.cc and session_policy_test.cc.
#ifndef SMTP_HARNESS_SERVER_SESSION_TEST_UTIL_H_
#define SMTP_HARNESS_SERVER_SESSION_TEST_UTIL_H_

#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "harness/sasl.h"
#include "harness/server/session.h"
#include "parser/reply.h"

namespace smtp::server::testing {

// The protocol tests' configuration: the defaults, plus
// - plaintext AUTH (the mechanics are tested without TLS; the default,
//   AUTH after TLS, is tested in session_policy_test.cc),
// - y.test a local domain (the tables send mail to b@y.test),
// - reject_early_data off: the tables feed whole transactions in one chunk
//   and re-feed them split anywhere, which that rule tells apart by design.
inline ServerConfig BaseConfig() {
  ServerConfig c;
  c.hostname = "mx.test";
  c.credentials = {{"user", "secret"}};
  c.auth_advertise = AuthAdvertise::kAlways;
  c.relay.local_domains.push_back("y.test");
  c.reject_early_data = false;
  c.trace_header = false;  // tests compare stored bodies with what they sent
  return c;
}

// What one session did with some input.
struct Outcome {
  std::vector<Reply> replies;
  std::string wire;  // all reply bytes
  std::vector<StoredMessage> messages;
  SessionAction action = SessionAction::kNone;
  SessionState state = SessionState::kInit;
  std::vector<std::string> log;
};

// Feeds `chunks` in order, as a driver would: write the output, honour the
// action (STARTTLS: drop the rest of the chunk and "handshake"; close: stop).
// `early_talker`: the session starts refused (Session::StartRefused), as
// when the driver saw input before the greeting. The client connected to
// 127.0.0.1.
inline Outcome Drive(const ServerConfig& config, const std::vector<std::string_view>& chunks,
                     bool early_talker = false) {
  MemorySink sink;
  Session s(config, &sink, SessionInfo{7, "127.0.0.1:4000", /*tls_available=*/true, "127.0.0.1"});
  Outcome o;
  if (early_talker) {
    s.StartRefused("input before the greeting");
  } else {
    s.Start();
  }
  auto flush = [&] {
    o.wire += s.output();
    s.ClearOutput();
  };
  flush();
  for (std::string_view chunk : chunks) {
    while (!chunk.empty()) {
      if (s.action() == SessionAction::kClose || s.action() == SessionAction::kAbort) break;
      const std::size_t n = s.Feed(chunk);
      chunk.remove_prefix(n);
      flush();
      if (s.action() == SessionAction::kStartTls) {
        chunk = {};  // CVE-2011-0411: plaintext after STARTTLS is dropped
        s.OnTlsStarted();
      }
      if (n == 0 && s.action() == SessionAction::kNone) {
        ADD_FAILURE() << "Feed made no progress";
        break;
      }
    }
  }
  // Strict: every reply the server writes must be RFC 5321 / RFC 4954 valid
  // ("334 " with an empty challenge included).
  ReplyReader reader;
  std::string_view rest = o.wire;
  while (!rest.empty()) {
    rest.remove_prefix(reader.Feed(rest));
    if (reader.has_reply()) {
      o.replies.push_back(reader.TakeReply());
    } else {
      ADD_FAILURE() << "server wrote a malformed reply: " << o.wire;
      break;
    }
  }
  o.messages = sink.Messages();
  o.action = s.action();
  o.state = s.state();
  o.log = s.StateLog();
  return o;
}

inline Outcome DriveOnce(const ServerConfig& config, std::string_view input) {
  return Drive(config, {input});
}

// "250" or "503 5.5.1": the code and, if given, the enhanced code.
inline std::string Summary(const Reply& r) {
  std::string s = std::to_string(r.code);
  if (r.enhanced) s += " " + r.enhanced->ToString();
  return s;
}

inline std::vector<std::string> Summaries(const Outcome& o) {
  std::vector<std::string> out;
  for (const Reply& r : o.replies) out.push_back(Summary(r));
  return out;
}

inline std::string B64(std::string_view s) { return sasl::Base64Encode(s); }

}  // namespace smtp::server::testing

#endif  // SMTP_HARNESS_SERVER_SESSION_TEST_UTIL_H_
