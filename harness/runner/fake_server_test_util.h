// Test-only: a small scripted SMTP server for runner tests, served on any
// Transport (an in-memory pair, or a loopback socket for STARTTLS), with
// hostile modes. It answers EHLO/HELO/MAIL/RCPT/DATA/BDAT/RSET/NOOP/QUIT/
// AUTH (PLAIN, LOGIN, CRAM-MD5, XOAUTH2)/STARTTLS with RFC 5321 codes and
// 500 for anything else.
#ifndef SMTP_HARNESS_RUNNER_FAKE_SERVER_TEST_UTIL_H_
#define SMTP_HARNESS_RUNNER_FAKE_SERVER_TEST_UTIL_H_

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "absl/strings/ascii.h"
#include "harness/runner/executor.h"
#include "harness/sasl.h"
#include "harness/test_util.h"
#include "parser/ascii.h"

namespace smtp::runner::testing {

using harness::Deadline;
using harness::In;
using harness::Transport;

enum class Hostile {
  kNone,
  kSilent,       // never says anything
  kEndlessLine,  // "220-" then bytes without end
  kSlowDrip,     // the greeting one byte every 100 ms
  kGarbage,      // a greeting that is not a reply
  kEarlyClose,   // closes after the greeting
  kFlood,        // "250 ok" replies without end after the greeting
};

struct FakeOptions {
  std::string greeting = "220 fake.test ESMTP ready\r\n";
  std::vector<std::string> extensions = {"PIPELINING", "8BITMIME", "CHUNKING",
                                         "AUTH PLAIN LOGIN CRAM-MD5 XOAUTH2"};
  std::string user = "alice";
  std::string password = "s3cret-pw";
  Hostile hostile = Hostile::kNone;
  // STARTTLS: sent after "220 ready" in the same write (response injection).
  std::string inject_after_starttls;
  // STARTTLS: keep plaintext the client pipelined behind STARTTLS and run it
  // inside TLS (the CVE-2011-0411 bug) instead of discarding it.
  bool keep_plaintext_after_starttls = false;
  harness::TlsOptions tls;  // server role; StartTls is refused (454) when no cert
  // RCPT at a .invalid domain (the preflight's relay-trust check) is refused
  // with 554 unless this is set: a server that relays for this client.
  bool relay_for_client = false;
  // An unknown command is echoed raw into the 500 reply, as aiosmtpd does
  // (a bare CR in the command becomes a bare CR in the reply text).
  bool echo_unknown = false;
  // Not empty: a DATA line with a bare CR gets this reply and the connection
  // is closed (Sendmail 8.17: "421 4.5.0 Bare carriage return (CR) not
  // allowed").
  std::string bare_cr_in_data_reply;
};

// What the server saw, shared by every connection of a FakeConnector.
struct FakeLog {
  int connections = 0;
  std::vector<std::string> lines;        // every command line received
  std::vector<std::string> data_bodies;  // raw DATA bytes up to and including ".\r\n"
};

// The base64 initial responses of the auth step: PLAIN (empty authzid) and
// XOAUTH2. The fake server checks them; tests look for them in reports.
inline std::string PlainBlob(std::string_view user, std::string_view password) {
  return sasl::Base64Encode(sasl::SerializePlainMessage({.authcid = user, .passwd = password}));
}
inline std::string Xoauth2Blob(std::string_view user, std::string_view token) {
  return sasl::Base64Encode(sasl::Xoauth2Message(user, token));
}

namespace internal {

// Reads up to and including the next LF (bounded); "" at EOF or on error.
inline asio::awaitable<std::string> ReadLine(Transport& t, std::string& buf, Deadline d) {
  char chunk[1024];
  while (buf.find('\n') == std::string::npos) {
    if (buf.size() > 64 * 1024) co_return std::string();
    auto n = co_await t.ReadSome(chunk, sizeof chunk, d);
    if (!n.ok() || *n == 0) co_return std::string();
    buf.append(chunk, *n);
  }
  const std::size_t lf = buf.find('\n');
  std::string line = buf.substr(0, lf + 1);
  buf.erase(0, lf + 1);
  co_return line;
}

inline asio::awaitable<bool> Reply(Transport& t, std::string text, Deadline d) {
  absl::Status s = co_await t.Write(text, d);
  co_return s.ok();
}

inline asio::awaitable<void> Hostilities(Transport& t, Hostile h, Deadline d) {
  switch (h) {
    case Hostile::kSilent: {  // reads until the client goes away
      char buf[512];
      for (;;) {
        auto n = co_await t.ReadSome(buf, sizeof buf, d);
        if (!n.ok() || *n == 0) break;
      }
      break;
    }
    case Hostile::kEndlessLine: {
      std::string junk(4096, 'x');
      co_await Reply(t, "220-", d);
      for (int i = 0; i < 1000; ++i) {
        bool ok = co_await Reply(t, junk, In(std::chrono::milliseconds(500)));
        if (!ok) break;
      }
      break;
    }
    case Hostile::kSlowDrip:
      for (char c : std::string("220 slow greeting\r\n")) {
        bool ok = co_await Reply(t, std::string(1, c), d);
        if (!ok) break;
        co_await harness::testing::Sleep(std::chrono::milliseconds(100));
      }
      break;
    case Hostile::kGarbage:
      co_await Reply(t, "HELLO THERE\r\n", d);
      break;
    case Hostile::kEarlyClose:
    case Hostile::kFlood:
    case Hostile::kNone:
      break;
  }
}

}  // namespace internal

// Serves one connection on `t` until QUIT, EOF, or 20 s.
inline asio::awaitable<void> ServeFake(std::unique_ptr<Transport> t, FakeOptions o, FakeLog* log) {
  using internal::Reply;
  const Deadline d = In(std::chrono::seconds(20));
  if (o.hostile != Hostile::kNone && o.hostile != Hostile::kEarlyClose &&
      o.hostile != Hostile::kFlood) {
    co_await internal::Hostilities(*t, o.hostile, d);
    co_await t->Close(In(std::chrono::seconds(1)));
    co_return;
  }
  co_await Reply(*t, o.greeting, d);
  if (o.hostile == Hostile::kEarlyClose) {
    co_await t->Close(d);
    co_return;
  }
  if (o.hostile == Hostile::kFlood) {
    std::string flood;
    for (int i = 0; i < 512; ++i) flood += "250 ok\r\n";
    co_await harness::testing::Flood(*t, flood, In(std::chrono::seconds(3)));
    co_return;
  }
  std::string buf;
  bool ehlo = false, mail = false, rcpt = false;
  for (;;) {
    std::string line = co_await internal::ReadLine(*t, buf, d);
    if (line.empty()) break;
    if (log) log->lines.push_back(line);
    const std::string_view cmd = WithoutLineEnd(line);
    const std::string verb = absl::AsciiStrToUpper(std::string(cmd.substr(0, cmd.find(' '))));
    const std::string arg(cmd.find(' ') == std::string_view::npos ? ""
                                                                  : cmd.substr(cmd.find(' ') + 1));
    std::string out;
    if (verb == "EHLO") {
      ehlo = true;
      mail = rcpt = false;
      out = o.extensions.empty() ? "250 fake.test\r\n" : "250-fake.test\r\n";
      for (std::size_t i = 0; i < o.extensions.size(); ++i) {
        out += (i + 1 == o.extensions.size() ? "250 " : "250-") + o.extensions[i] + "\r\n";
      }
    } else if (verb == "HELO") {
      ehlo = true;
      out = "250 fake.test\r\n";
    } else if (verb == "MAIL") {
      out = !ehlo  ? "503 5.5.1 EHLO first\r\n"
            : mail ? "503 5.5.1 nested MAIL\r\n"
                   : "250 2.1.0 ok\r\n";
      mail = mail || ehlo;
    } else if (verb == "RCPT") {
      if (!mail) {
        out = "503 5.5.1 need MAIL\r\n";
      } else if (arg.find("nouser") != std::string::npos) {
        out = "550 5.1.1 no such user\r\n";
      } else if (!o.relay_for_client && arg.find(".invalid>") != std::string::npos) {
        out = "554 5.7.1 relay access denied\r\n";
      } else {
        out = "250 2.1.5 ok\r\n";
        rcpt = true;
      }
    } else if (verb == "DATA") {
      if (!rcpt) {
        out = "503 5.5.1 need RCPT\r\n";
      } else {
        co_await Reply(*t, "354 go ahead\r\n", d);
        std::string body;
        for (;;) {
          std::string l = co_await internal::ReadLine(*t, buf, d);
          if (l.empty()) co_return;
          if (!o.bare_cr_in_data_reply.empty()) {
            const std::size_t cr = l.find('\r');
            if (cr != std::string::npos && cr + 2 != l.size()) {
              co_await Reply(*t, o.bare_cr_in_data_reply, d);
              co_await t->Close(In(std::chrono::seconds(1)));
              co_return;
            }
          }
          body += l;
          if (l == ".\r\n") break;
        }
        if (log) log->data_bodies.push_back(body);
        out = "250 2.0.0 queued\r\n";
        mail = rcpt = false;
      }
    } else if (verb == "BDAT") {
      const std::size_t n = std::stoul(arg);
      char chunk[1024];
      while (buf.size() < n) {
        auto got = co_await t->ReadSome(chunk, sizeof chunk, d);
        if (!got.ok() || *got == 0) co_return;
        buf.append(chunk, *got);
      }
      buf.erase(0, n);
      out = "250 2.0.0 chunk ok\r\n";
    } else if (verb == "RSET" || verb == "NOOP") {
      if (verb == "RSET") mail = rcpt = false;
      out = "250 2.0.0 ok\r\n";
    } else if (verb == "QUIT") {
      co_await Reply(*t, "221 2.0.0 bye\r\n", d);
      break;
    } else if (verb == "STARTTLS") {
      if (o.tls.cert_pem.empty()) {
        out = "454 4.7.0 TLS not available\r\n";
      } else {
        co_await Reply(*t, "220 2.0.0 ready\r\n" + o.inject_after_starttls, d);
        absl::Status s = co_await t->StartTls(o.tls, d);
        if (!s.ok()) break;
        ehlo = mail = rcpt = false;
        if (!o.keep_plaintext_after_starttls) buf.clear();
        continue;
      }
    } else if (verb == "AUTH") {
      const std::string mech = absl::AsciiStrToUpper(arg.substr(0, arg.find(' ')));
      const std::string initial =
          arg.find(' ') == std::string::npos ? "" : arg.substr(arg.find(' ') + 1);
      bool good = false;
      if (mech == "PLAIN") {
        good = initial == PlainBlob(o.user, o.password);
      } else if (mech == "LOGIN") {
        co_await Reply(*t, "334 VXNlcm5hbWU6\r\n", d);
        std::string u = co_await internal::ReadLine(*t, buf, d);
        co_await Reply(*t, "334 UGFzc3dvcmQ6\r\n", d);
        std::string p = co_await internal::ReadLine(*t, buf, d);
        good = u == sasl::Base64Encode(o.user) + "\r\n" &&
               p == sasl::Base64Encode(o.password) + "\r\n";
      } else if (mech == "CRAM-MD5") {
        const std::string challenge = "<1896.697170952@fake.test>";
        co_await Reply(*t, "334 " + sasl::Base64Encode(challenge) + "\r\n", d);
        std::string r = co_await internal::ReadLine(*t, buf, d);
        good =
            r == sasl::Base64Encode(sasl::CramMd5Response(o.user, o.password, challenge)) + "\r\n";
      } else if (mech == "XOAUTH2") {
        good = initial == Xoauth2Blob(o.user, o.password);
        if (!good) {
          co_await Reply(*t, "334 eyJzdGF0dXMiOiI0MDEifQ==\r\n", d);
          std::string empty = co_await internal::ReadLine(*t, buf, d);
        }
      } else {
        out = "504 5.5.4 unknown mechanism\r\n";
      }
      if (out.empty()) out = good ? "235 2.7.0 ok\r\n" : "535 5.7.8 bad credentials\r\n";
    } else {
      out = o.echo_unknown ? "500 Error: command \"" + std::string(cmd) + "\" not recognized\r\n"
                           : "500 5.5.2 unknown command\r\n";
    }
    bool ok = co_await Reply(*t, out, d);
    if (!ok) break;
  }
  co_await t->Close(In(std::chrono::seconds(1)));
}

// A Connector that serves each connection with ServeFake on an in-memory
// pair on `executor`. Implicit TLS is refused (memory transports have none).
inline Connector FakeConnector(asio::any_io_executor executor, FakeOptions o,
                               FakeLog* log = nullptr) {
  return [executor, o, log](harness::Session& session, bool implicit_tls,
                            Deadline) -> asio::awaitable<absl::Status> {
    if (implicit_tls) co_return absl::UnimplementedError("no TLS on memory transports");
    if (log) ++log->connections;
    auto [client, server] = harness::MakeMemoryPair(executor);
    asio::co_spawn(executor, ServeFake(std::move(server), o, log), asio::detached);
    session.Attach(std::move(client));
    co_return absl::OkStatus();
  };
}

// A Connector whose connections are refused.
inline Connector RefusingConnector() {
  return [](harness::Session&, bool, Deadline) -> asio::awaitable<absl::Status> {
    co_return absl::UnavailableError("connection refused");
  };
}

}  // namespace smtp::runner::testing

#endif  // SMTP_HARNESS_RUNNER_FAKE_SERVER_TEST_UTIL_H_
