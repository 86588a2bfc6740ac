// Where accepted mail goes. A session opens a BodyWriter when a message body
// starts, streams the unstuffed body into it, and commits it only when the
// message is accepted: a message is "accepted" exactly when Commit returned
// OK, and only then does the client get its 250. So after a graceful stop
// nothing that got a 250 is lost.
//
// Sinks are shared by all sessions of a server and must be thread-safe for
// Open/Commit (the server runs one thread today; the sinks lock anyway).
// Writes are synchronous file I/O on the server's thread: fine for a test
// server, not for a production MTA.
#ifndef SMTP_HARNESS_SERVER_SINK_H_
#define SMTP_HARNESS_SERVER_SINK_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "harness/server/config.h"

typedef struct evp_md_ctx_st EVP_MD_CTX;

namespace smtp::server {

// The envelope of one message, as the server accepted it.
struct Envelope {
  std::uint64_t session_id = 0;
  std::string client;    // "127.0.0.1:40000"
  std::string helo;      // EHLO / HELO / LHLO argument
  std::string protocol;  // "SMTP", "ESMTP", "ESMTPS", "ESMTPA", "ESMTPSA", "LMTP"...
  bool tls = false;
  std::string auth_user;                 // "" when not authenticated
  std::string mail_from;                 // mailbox without <>, "" for the null path
  std::string mail_params;               // the MAIL parameters as written
  std::vector<std::string> rcpt_to;      // mailboxes without <> (source route dropped)
  std::vector<std::string> rcpt_params;  // each RCPT's parameters as written
  std::string body_type;                 // "", "7BIT", "8BITMIME", "BINARYMIME"
  bool smtputf8 = false;
  std::string transfer;  // "DATA" or "BDAT"
};

// What the server knows about a body when it is complete.
struct MessageInfo {
  Envelope envelope;
  std::uint64_t size = 0;        // unstuffed body octets
  std::string sha256;            // lower-case hex of the unstuffed body; "" unless wants_sha256()
  std::string data_end;          // DATA: end sequence as "<before>.<after>" ("crlf.crlf"); BDAT: ""
  std::uint64_t bare_lf = 0;     // DATA: bare LFs seen in the body
  std::uint64_t bare_cr = 0;     // DATA: bare CRs seen in the body
  std::uint64_t long_lines = 0;  // DATA: lines over the text line limit (accepted)
};

// One message being received. Destroying it without Commit discards it.
class BodyWriter {
 public:
  virtual ~BodyWriter() = default;
  // Appends unstuffed body octets.
  virtual absl::Status Append(std::string_view piece) = 0;
  // Makes the message durable; returns its id (used in "queued as <id>").
  virtual absl::StatusOr<std::string> Commit(const MessageInfo& info) = 0;
};

class MessageSink {
 public:
  virtual ~MessageSink() = default;
  virtual absl::StatusOr<std::unique_ptr<BodyWriter>> Open() = 0;
  // Flushes buffered output (called at shutdown).
  virtual absl::Status Flush() { return absl::OkStatus(); }
  // Messages committed so far.
  virtual std::uint64_t committed() const = 0;
  // Whether Commit reads MessageInfo::sha256. When false, sessions do not
  // hash the bodies they stream into this sink (the discard and maildir
  // sinks keep no digest).
  virtual bool wants_sha256() const { return true; }
};

// Creates the sink `config` names: kMaildir creates <path>/{tmp,new,cur};
// kJsonl opens <path> for appending.
absl::StatusOr<std::unique_ptr<MessageSink>> MakeSink(const SinkConfig& config);

// A message kept by MemorySink.
struct StoredMessage {
  std::string id;
  MessageInfo info;
  std::string body;  // at most SinkConfig::body_limit octets
  bool truncated = false;
};

// Keeps the last `max_messages` messages (with bodies) in memory.
class MemorySink : public MessageSink {
 public:
  explicit MemorySink(std::size_t max_messages = 1000, std::size_t body_limit = 16 << 20);
  absl::StatusOr<std::unique_ptr<BodyWriter>> Open() override;
  std::uint64_t committed() const override;
  // A copy of the messages kept, oldest first.
  std::vector<StoredMessage> Messages() const;
  // A copy of those sent from one of `clients` ("ip:port", as in
  // Envelope::client), oldest first; other messages are not copied.
  std::vector<StoredMessage> MessagesFrom(const std::vector<std::string>& clients) const;

 private:
  friend class MemoryWriter;
  void Add(StoredMessage m);

  const std::size_t max_messages_;
  const std::size_t body_limit_;
  mutable std::mutex mu_;
  std::deque<StoredMessage> messages_;
  std::uint64_t committed_ = 0;
};

// Incremental SHA-256 (OpenSSL EVP).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(std::string_view data);
  // Lower-case hex digest; the object is reset for a new message.
  std::string FinalHex();

 private:
  EVP_MD_CTX* ctx_;
};

// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

}  // namespace smtp::server

#endif  // SMTP_HARNESS_SERVER_SINK_H_
