// The embedded reference server (harness/server/session.h), in process and
// sans-I/O, for the network fuzzer's fast path (`fuzz --target embedded`)
// and for the fuzz_server_session target.
//
// Why its own namespace, with standard types only: in the g++ build the
// fuzzer runs a separate copy of the server's sans-I/O code (the library
// smtp_server_cov), compiled with -fsanitize-coverage=trace-pc so
// that libFuzzer sees the server's code coverage (pc_counters.h). That copy
// is compiled with the namespace `smtp` renamed (-Dsmtp=smtp_cov), so its
// symbols never clash with the uninstrumented server the rest of the binary
// uses; this header is the one door between the two worlds, and so names no
// type of either.
#ifndef SMTP_FUZZ_NET_EMBEDDED_SERVER_H_
#define SMTP_FUZZ_NET_EMBEDDED_SERVER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace smtp_netfuzz_embedded {

struct Options {
  // A behaviour profile of the embedded server: "strict", "lenient",
  // "faulty", "planted"... ("slow" delays nothing here: no clock).
  std::string profile = "strict";
  bool lmtp = false;
};

enum class Action : std::uint8_t { kNone, kStartTls, kClose, kAbort };

class Connection {
 public:
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Queues the greeting.
  void Start();
  // Consumes a prefix of `in` (see server::Session::Feed).
  std::size_t Feed(std::string_view in);
  // Reply bytes waiting, and the end offset of each reply in them.
  std::string_view output() const;
  std::span<const std::size_t> reply_ends() const;
  void ClearOutput();
  Action action() const;
  // The handshake of an accepted STARTTLS "succeeded" (nothing is
  // encrypted in process): the session starts over, as after TLS.
  void OnTlsStarted();
  void OnPeerClosed();
  // "INIT", "READY", "MAIL", "RCPT", "DATA", "BDAT", "AUTH", "TLS", "CLOSED".
  std::string_view state_name() const;
  // After kAbort: the server's own account of why ("planted bug 1: HELP
  // %x"); empty otherwise.
  std::string_view abort_reason() const;
  // Waiting for a command line (not in a body, chunk or SASL exchange).
  bool awaiting_command() const;

 private:
  friend class Server;
  struct Impl;
  explicit Connection(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class Server {
 public:
  // nullptr and `*error` set for an unknown profile.
  static std::unique_ptr<Server> Create(const Options& options, std::string* error);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  std::unique_ptr<Connection> Open();
  std::uint64_t messages_accepted() const;
  bool lmtp() const;  // Options::lmtp

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace smtp_netfuzz_embedded

#endif  // SMTP_FUZZ_NET_EMBEDDED_SERVER_H_
