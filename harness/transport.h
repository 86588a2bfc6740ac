// Transport: a byte stream to an SMTP peer, over Boost.Asio with C++20
// coroutines. Implementations: TCP (IPv4/IPv6, names resolved), TLS (implicit,
// or STARTTLS upgrade of a TCP stream in place), `exec:CMD` (a child process
// speaking SMTP on its stdin/stdout) and an in-memory pair for tests.
//
// Every operation takes an absolute deadline; every read a size bound. A
// deadline that passes yields absl::StatusCode::kDeadlineExceeded and leaves
// the transport usable (a read that timed out consumed nothing). A read
// whose deadline has already passed fails at once, even when bytes are
// waiting: data never wins over an expired deadline, so a peer that streams
// without pause cannot stretch one. Boost error
// codes are mapped to absl::Status in one place (ErrorToStatus).
//
// A Transport is driven from one strand (the io_context thread of its
// executor). One read and one write may be outstanding at the same time;
// two reads (or two writes) may not.
#ifndef SMTP_HARNESS_TRANSPORT_H_
#define SMTP_HARNESS_TRANSPORT_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "results/transcript.h"

namespace boost::system {
class error_code;
}  // namespace boost::system

namespace smtp::harness {

namespace asio = boost::asio;

using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;

// A deadline `d` from now.
inline Deadline In(Clock::duration d) { return Clock::now() + d; }

// TLS parameters, for implicit TLS, STARTTLS and the server role.
//
// Not an aggregate on purpose (the user-declared constructor): g++ 12
// destroys a brace-initialized aggregate temporary twice when it appears in a
// co_await expression (`co_await t.StartTls(TlsOptions{}, d)` → bad free).
// Value-initialized non-aggregates are not affected. Same for Target.
struct TlsOptions {
  TlsOptions() = default;
  enum class Role : std::uint8_t { kClient, kServer };
  Role role = Role::kClient;
  // Client: verify the chain and (if server_name is set) the host name.
  // Server: request and verify a client certificate. Default off: a test
  // harness must talk to servers with self-signed certificates.
  bool verify_peer = false;
  std::string server_name;  // client: SNI and name to verify; "" sends no SNI
  std::string ca_file;      // PEM trust anchors; "" uses the system default
  std::string cert_pem;     // server: required; client: optional client cert
  std::string key_pem;      // private key matching cert_pem
};

// State of an exec: child process.
struct ProcessStatus {
  bool running = true;  // not yet reaped
  bool exited = false;  // exited normally: exit_code is valid
  int exit_code = 0;
  int signal = 0;                // killed by this signal (0: not signalled)
  std::string stderr_head;       // the first ExecOptions::max_stderr bytes
  std::size_t stderr_bytes = 0;  // stderr bytes seen in total
};

struct ExecOptions {
  std::size_t max_stderr = 64 * 1024;  // stderr bytes kept; the rest is counted
};

class Transport {
 public:
  virtual ~Transport() = default;

  // Reads between 1 and `max` bytes into `buf` (max > 0). Returns the count,
  // 0 when the peer closed its sending side (orderly EOF, also TLS EOF without
  // close_notify), DeadlineExceeded when `deadline` passed first, or another
  // error (e.g. Unavailable "connection reset").
  virtual asio::awaitable<absl::StatusOr<std::size_t>> ReadSome(char* buf, std::size_t max,
                                                                Deadline deadline) = 0;

  // Whether a ReadSome now would return at once (bytes, EOF or an error are
  // waiting), checked without blocking. Lets a client look for what the
  // peer sent before it writes without arming a timer (a timer's wait is
  // at least a millisecond). True where the transport cannot tell.
  virtual bool ReadReady() { return true; }

  // Writes all of `bytes`, or fails. `*written` (if given) receives the count
  // actually handed to the peer, also on failure.
  virtual asio::awaitable<absl::Status> Write(std::string_view bytes, Deadline deadline,
                                              std::size_t* written = nullptr) = 0;

  // Upgrades the stream to TLS in place (STARTTLS), or fails with
  // Unimplemented where the transport cannot. Bytes already buffered by the
  // caller are the caller's business (RFC 3207 §4: they must be discarded).
  virtual asio::awaitable<absl::Status> StartTls(const TlsOptions& options, Deadline deadline);

  // Half-close: no more bytes from us (TCP FIN), reading goes on, so a peer
  // that reads to EOF can finish what it was sent. Unimplemented where the
  // transport cannot (TLS: a close_notify ends both directions for many
  // peers; exec:, in-memory).
  virtual absl::Status ShutdownSend() { return absl::UnimplementedError("half-close"); }

  // Closes our side: TLS close_notify (best effort), then the connection.
  // For exec: closes the child's stdin and waits for it to exit until
  // `deadline`, then kills it. Idempotent.
  virtual asio::awaitable<absl::Status> Close(Deadline deadline) = 0;

  // Details of the TLS session, once established.
  virtual std::optional<TlsInfo> tls() const { return std::nullopt; }
  // The peer, for the transcript: "127.0.0.1:25", "[::1]:25", "exec:cmd".
  virtual std::string peer() const = 0;
  // Our end of the connection in the same notation ("127.0.0.1:40000"), as
  // the server sees us; "" when there is none (exec:, in-memory).
  virtual std::string local() const { return {}; }
  // exec: only: the child's state (polled without blocking).
  virtual std::optional<ProcessStatus> process() { return std::nullopt; }
};

// --- Targets ---------------------------------------------------------------

// Where to connect. Textual forms (ParseTarget):
//   host[:port]        TCP, port 25 by default; host is a name, an IPv4
//   tcp:host[:port]    address or a bracketed IPv6 address "[::1]"
//   tls:host[:port]    implicit TLS (RFC 8314), port 465 by default
//   exec:COMMAND       run `/bin/sh -c COMMAND`, talk on its stdin/stdout
struct Target {
  Target() = default;  // not an aggregate: see TlsOptions
  enum class Kind : std::uint8_t { kTcp, kTls, kExec };
  Kind kind = Kind::kTcp;
  std::string host;
  std::uint16_t port = 25;
  std::string command;  // kExec
  // The target speaks LMTP (RFC 2033: LHLO, a reply per recipient after
  // DATA), not SMTP: "lmtp:" before any of the forms above.
  bool lmtp = false;

  // The textual form; ParseTarget(ToString()) gives back the same Target.
  std::string ToString() const;
  friend bool operator==(const Target&, const Target&) = default;
};

absl::StatusOr<Target> ParseTarget(std::string_view spec);

// --- Factories -------------------------------------------------------------

// Resolves `host` and connects to the first address that answers, within
// `deadline` for resolution and connection together.
asio::awaitable<absl::StatusOr<std::unique_ptr<Transport>>> ConnectTcp(std::string_view host,
                                                                       std::uint16_t port,
                                                                       Deadline deadline);

// ConnectTcp, then a TLS handshake (implicit TLS). If options.server_name is
// empty and `host` is a name, the name is used for SNI.
asio::awaitable<absl::StatusOr<std::unique_ptr<Transport>>> ConnectTls(std::string_view host,
                                                                       std::uint16_t port,
                                                                       TlsOptions options,
                                                                       Deadline deadline);

// Starts `/bin/sh -c command` with its stdin/stdout as the stream. Its stderr
// is drained in the background into ProcessStatus::stderr_head (bounded).
// Ignores SIGPIPE process-wide (a write to a dead child must fail, not kill
// us).
absl::StatusOr<std::unique_ptr<Transport>> SpawnExec(asio::any_io_executor executor,
                                                     std::string_view command,
                                                     ExecOptions options = {});

// Dispatches on target.kind. `tls` applies to kTls (and is kept for StartTls).
asio::awaitable<absl::StatusOr<std::unique_ptr<Transport>>> Connect(const Target& target,
                                                                    const TlsOptions& tls,
                                                                    Deadline deadline);

// Two connected in-memory transports: bytes written on one are read on the
// other. Each direction buffers at most `capacity` bytes; a writer beyond it
// waits (so a flooding peer is throttled exactly like over TCP). Close()
// delivers EOF to the other end. For tests: one end is the client, the other
// a scripted fake server.
std::pair<std::unique_ptr<Transport>, std::unique_ptr<Transport>> MakeMemoryPair(
    asio::any_io_executor executor, std::size_t capacity = 64 * 1024);

// The one mapping from Boost error codes to absl::Status. `what` names the
// operation ("read", "connect to x:25", ...) and prefixes the message.
absl::Status ErrorToStatus(const boost::system::error_code& ec, std::string_view what);

}  // namespace smtp::harness

#endif  // SMTP_HARNESS_TRANSPORT_H_
