// Session: the one client-side engine that sends bytes and reads SMTP
// replies over a Transport, recording everything in a Transcript. The
// scenario runner, the network fuzzer and the replayer all drive it.
//
// Every operation is awaitable and takes an absolute deadline: a slow drip
// of bytes cannot extend it, and neither can a peer that never stops
// sending (no read starts once the deadline has passed, whatever is
// waiting on the socket). Reads are bounded: the session reads at most
// `read_chunk` bytes at a time and only when the reply reader has consumed
// everything buffered, so an endless line or a reply flood stops at the
// parser's limits (parser/limits.h) and memory stays bounded. Bytes beyond
// one reply stay buffered for the next ReadReply (pipelining).
//
// A misbehaving server is an outcome, not an error: ReadReply reports a
// timeout, a close, or a malformed reply as distinct outcomes. absl::Status
// errors are reserved for our side and the transport (refused, reset, ...).
#ifndef SMTP_HARNESS_SESSION_H_
#define SMTP_HARNESS_SESSION_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "harness/transport.h"
#include "parser/parse_error.h"
#include "parser/reply.h"
#include "results/transcript.h"

namespace smtp::harness {

struct SessionOptions {
  ReplyOptions reply;                   // reply reader leniencies and limits
  std::size_t read_chunk = 4096;        // bytes per transport read
  std::size_t max_capture = 64 * 1024;  // bytes ExpectClose/ExpectSilence return
  // Bytes ExpectClose reads while waiting for the close; a peer that sends
  // more is taken as not closing (kStillOpen at once), however long the
  // deadline still is.
  std::size_t max_drain = 64 * 1024;
  Transcript::Options transcript;
  TlsOptions tls;  // for tls: targets and StartTls()
};

// What ReadReply saw.
enum class ReadStatus : std::uint8_t {
  kReply,       // a complete reply
  kTimeout,     // the deadline passed; a partial reply stays in the reader
  kPeerClosed,  // EOF (before or in the middle of a reply)
  kMalformed,   // the bytes break the reply grammar or a limit
  kError,       // transport failure (reset, TLS error, not connected)
};
std::string_view ReadStatusName(ReadStatus s);  // "reply", "timeout", ...

struct ReplyOutcome {
  ReadStatus status = ReadStatus::kError;
  Reply reply;       // kReply
  ParseError error;  // kMalformed; offset relative to the start of `partial`
  // Bytes of the reply in progress (kTimeout, kPeerClosed, kMalformed):
  // what the reader consumed since the previous reply ended. Bounded by
  // ReplyOptions::limits.reply_bytes.
  std::string partial;
  absl::Status transport_error;  // kError

  bool ok() const { return status == ReadStatus::kReply; }
};

// What ExpectSilence saw.
struct SilenceOutcome {
  enum class Status : std::uint8_t { kSilent, kData, kPeerClosed, kError };
  Status status = Status::kSilent;
  std::string data;  // kData: what arrived (also kept for the next ReadReply)
  absl::Status transport_error;
};

// What ExpectClose saw.
struct CloseOutcome {
  enum class Status : std::uint8_t {
    kClosed,     // orderly EOF
    kReset,      // the connection was reset / broken
    kStillOpen,  // the deadline passed with the connection open
    kError,      // another transport failure
  };
  Status status = Status::kStillOpen;
  std::string data;            // bytes that arrived first (at most max_capture)
  std::size_t data_bytes = 0;  // bytes that arrived first, in total
  bool flooded = false;        // kStillOpen because max_drain bytes arrived
  absl::Status transport_error;
};

class Session {
 public:
  explicit Session(SessionOptions options = {});
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Opens a transport to `target` and records a connect event. The
  // transcript clock starts when the Session is constructed.
  asio::awaitable<absl::Status> Connect(const Target& target, Deadline deadline);
  // Uses an already open transport (in-memory pair, accepted socket).
  void Attach(std::unique_ptr<Transport> transport);

  // Writes all of `bytes`. The bytes actually written are recorded.
  asio::awaitable<absl::Status> Send(std::string_view bytes, Deadline deadline);

  // Reads one reply (see ReadStatus). After kMalformed the reader resyncs:
  // the rest of the offending line (through the next LF) is discarded before
  // the next reply is read. After kPeerClosed/kError every further read
  // returns the same status at once.
  asio::awaitable<ReplyOutcome> ReadReply(Deadline deadline);

  // Reads once what has already arrived (waiting at most until `deadline`,
  // which should be near), unless bytes are buffered or the peer closed;
  // a timeout is not recorded. Lets a client see, before it writes, a reply
  // or a close that came meanwhile: look at buffered() and peer_closed().
  asio::awaitable<void> Peek(Deadline deadline);

  // Waits until `deadline` for the peer to close. Bytes that arrive first are
  // recorded and returned (bounded); buffered unread bytes count as arrived.
  // After SessionOptions::max_drain bytes it stops reading and returns
  // kStillOpen (with `flooded` set) before the deadline.
  asio::awaitable<CloseOutcome> ExpectClose(Deadline deadline);

  // Waits until `deadline` for nothing to arrive. Returns at the first bytes
  // that do arrive (or are already buffered); they stay buffered for
  // ReadReply. Does not consume a partial reply.
  asio::awaitable<SilenceOutcome> ExpectSilence(Deadline deadline);

  // Upgrades to TLS (after the server's 220 to STARTTLS) with
  // options().tls, or `tls` when given. SNI defaults to the target host
  // name. Per RFC 3207 §4 plaintext buffered beyond the 220 reply is
  // discarded: it is left in discarded_before_tls() (a server that sends it
  // is a finding: response injection, cf. CVE-2011-0411).
  asio::awaitable<absl::StatusOr<TlsInfo>> StartTls(Deadline deadline,
                                                    std::optional<TlsOptions> tls = {});

  // Closes our side and records it. Idempotent.
  asio::awaitable<absl::Status> Close(Deadline deadline);

  bool connected() const { return transport_ != nullptr && !closed_; }
  bool peer_closed() const { return peer_closed_; }
  const Transcript& transcript() const { return transcript_; }
  Transcript& transcript() { return transcript_; }
  Transcript TakeTranscript();
  // The transport, e.g. for tls() or process(); null before Connect/Attach.
  Transport* transport() { return transport_.get(); }
  // Bytes read but not yet consumed by the reply reader.
  std::string_view buffered() const { return buffer_; }
  const std::string& discarded_before_tls() const { return discarded_before_tls_; }
  const SessionOptions& options() const { return options_; }

 private:
  enum class ReadResult : std::uint8_t { kData, kEof, kTimeout, kError };
  // One bounded read appended to buffer_ and the transcript.
  asio::awaitable<ReadResult> ReadMore(Deadline deadline, std::string_view op, absl::Status* error,
                                       bool record_timeout = true);
  void ResetReader();

  SessionOptions options_;
  Transcript transcript_;
  std::unique_ptr<Transport> transport_;
  Target target_;
  ReplyReader reader_;
  std::string buffer_;           // read, not yet fed to reader_
  std::string partial_;          // fed to reader_ since the last reply ended
  std::size_t reply_start_ = 0;  // reader_.offset() when partial_ began
  std::string discarded_before_tls_;
  absl::Status sticky_error_;
  std::unique_ptr<char[]> chunk_;
  bool resync_ = false;  // skip through the next LF before reading a reply
  bool peer_closed_ = false;
  bool closed_ = false;
};

}  // namespace smtp::harness

#endif  // SMTP_HARNESS_SESSION_H_
