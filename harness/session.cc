#include "harness/session.h"

#include <algorithm>
#include <utility>

#include <boost/asio/this_coro.hpp>

#include "results/absl_compat.h"

namespace smtp::harness {
namespace {

void AppendBounded(std::string* out, std::string_view bytes, std::size_t cap) {
  if (out->size() < cap) out->append(bytes.substr(0, cap - out->size()));
}

std::string MalformedNote(const ParseError& e) {
  std::string note = "malformed reply: ";
  note += ErrcName(e.code);
  note += " at offset " + std::to_string(e.offset);
  if (!e.reason.empty()) {
    note += " (";
    note += e.reason;
    note += ")";
  }
  return note;
}

}  // namespace

std::string_view ReadStatusName(ReadStatus s) {
  switch (s) {
    case ReadStatus::kReply:
      return "reply";
    case ReadStatus::kTimeout:
      return "timeout";
    case ReadStatus::kPeerClosed:
      return "peer_closed";
    case ReadStatus::kMalformed:
      return "malformed";
    case ReadStatus::kError:
      return "error";
  }
  return "unknown";
}

Session::Session(SessionOptions options)
    : options_(std::move(options)),
      transcript_(options_.transcript),
      reader_(options_.reply),
      chunk_(new char[std::max<std::size_t>(options_.read_chunk, 1)]) {
  options_.read_chunk = std::max<std::size_t>(options_.read_chunk, 1);
}

Session::~Session() = default;

void Session::Attach(std::unique_ptr<Transport> transport) {
  transport_ = std::move(transport);
  transcript_.AddEvent(EntryKind::kConnect, transport_->peer());
  ResetReader();
  buffer_.clear();
  resync_ = peer_closed_ = closed_ = false;
  sticky_error_ = absl::OkStatus();
}

asio::awaitable<absl::Status> Session::Connect(const Target& target, Deadline deadline) {
  target_ = target;
  auto transport = co_await harness::Connect(target, options_.tls, deadline);
  if (!transport.ok()) {
    transcript_.AddEvent(
        absl::IsDeadlineExceeded(transport.status()) ? EntryKind::kTimeout : EntryKind::kError,
        "connect " + target.ToString() + ": " + Message(transport.status()));
    co_return transport.status();
  }
  Attach(std::move(*transport));
  if (auto tls = transport_->tls()) transcript_.AddTls(*tls);
  co_return absl::OkStatus();
}

asio::awaitable<absl::Status> Session::Send(std::string_view bytes, Deadline deadline) {
  if (!connected()) co_return absl::FailedPreconditionError("send: not connected");
  std::size_t written = 0;
  absl::Status status = co_await transport_->Write(bytes, deadline, &written);
  transcript_.AddData(Direction::kClientToServer, bytes.substr(0, written));
  if (!status.ok()) {
    const bool timeout = absl::IsDeadlineExceeded(status);
    transcript_.AddEvent(timeout ? EntryKind::kTimeout : EntryKind::kError,
                         timeout ? std::string("send") : Message(status));
  }
  co_return status;
}

void Session::ResetReader() {
  reader_.Reset();
  partial_.clear();
  reply_start_ = 0;
}

asio::awaitable<Session::ReadResult> Session::ReadMore(Deadline deadline, std::string_view op,
                                                       absl::Status* error, bool record_timeout) {
  // The deadline is absolute: once it has passed no read starts, even when
  // bytes are waiting (a peer that streams without pause must not keep us).
  if (Clock::now() >= deadline) {
    if (record_timeout) transcript_.AddEvent(EntryKind::kTimeout, op);
    co_return ReadResult::kTimeout;
  }
  auto n = co_await transport_->ReadSome(chunk_.get(), options_.read_chunk, deadline);
  if (!n.ok()) {
    if (absl::IsDeadlineExceeded(n.status())) {
      if (record_timeout) transcript_.AddEvent(EntryKind::kTimeout, op);
      co_return ReadResult::kTimeout;
    }
    // Any other failure ends the connection for us (reset, TLS error, ...).
    *error = sticky_error_ = n.status();
    peer_closed_ = true;
    transcript_.AddEvent(
        absl::IsUnavailable(n.status()) ? EntryKind::kPeerClosed : EntryKind::kError,
        Message(n.status()));
    co_return ReadResult::kError;
  }
  if (*n == 0) {
    peer_closed_ = true;
    transcript_.AddEvent(EntryKind::kPeerClosed);
    co_return ReadResult::kEof;
  }
  const std::string_view got(chunk_.get(), *n);
  transcript_.AddData(Direction::kServerToClient, got);
  buffer_.append(got);
  co_return ReadResult::kData;
}

asio::awaitable<void> Session::Peek(Deadline deadline) {
  if (transport_ == nullptr || closed_ || peer_closed_ || !buffer_.empty()) co_return;
  if (!transport_->ReadReady()) co_return;  // nothing there: no timer needed
  absl::Status error;
  co_await ReadMore(deadline, "peek", &error, /*record_timeout=*/false);
}

asio::awaitable<ReplyOutcome> Session::ReadReply(Deadline deadline) {
  ReplyOutcome out;
  if (transport_ == nullptr || closed_) {
    out.transport_error = absl::FailedPreconditionError("read_reply: not connected");
    co_return out;
  }
  for (;;) {
    if (resync_) {
      const std::size_t lf = buffer_.find('\n');
      if (lf != std::string::npos) {
        buffer_.erase(0, lf + 1);
        resync_ = false;
      } else {
        buffer_.clear();
      }
    }
    if (!resync_ && !buffer_.empty()) {
      const std::size_t n = reader_.Feed(buffer_);
      partial_.append(buffer_, 0, n);
      buffer_.erase(0, n);
      if (reader_.has_reply()) {
        out.status = ReadStatus::kReply;
        out.reply = reader_.TakeReply();
        partial_.clear();
        reply_start_ = reader_.offset();
        co_return out;
      }
      if (reader_.failed()) {
        out.status = ReadStatus::kMalformed;
        out.error = reader_.error();
        out.error.offset -= std::min(out.error.offset, reply_start_);
        out.partial = std::move(partial_);
        transcript_.AddNote(MalformedNote(out.error));
        ResetReader();
        resync_ = true;
        co_return out;
      }
      if (!buffer_.empty()) {  // Feed stops short only at a reply or an error
        out.transport_error = absl::InternalError("read_reply: reply reader stalled");
        co_return out;
      }
    }
    if (peer_closed_) {
      if (!sticky_error_.ok()) {
        out.status = ReadStatus::kError;
        out.transport_error = sticky_error_;
        out.partial = partial_;
        co_return out;
      }
      reader_.FeedEof();
      if (reader_.has_reply()) {  // a final bare CR resolved by EOF (leniency)
        out.status = ReadStatus::kReply;
        out.reply = reader_.TakeReply();
        ResetReader();
        co_return out;
      }
      out.status = ReadStatus::kPeerClosed;
      out.partial = std::move(partial_);
      ResetReader();
      co_return out;
    }
    absl::Status error;
    const ReadResult r = co_await ReadMore(deadline, "read_reply", &error);
    if (r == ReadResult::kTimeout) {
      out.status = ReadStatus::kTimeout;
      out.partial = partial_;
      co_return out;
    }
  }
}

asio::awaitable<SilenceOutcome> Session::ExpectSilence(Deadline deadline) {
  SilenceOutcome out;
  if (transport_ == nullptr || closed_) {
    out.status = SilenceOutcome::Status::kError;
    out.transport_error = absl::FailedPreconditionError("expect_silence: not connected");
    co_return out;
  }
  if (resync_) {  // the rest of a malformed reply's line is not news
    const std::size_t lf = buffer_.find('\n');
    buffer_.erase(0, lf == std::string::npos ? buffer_.size() : lf + 1);
    resync_ = lf == std::string::npos;
  }
  if (buffer_.empty() && !peer_closed_) {
    absl::Status error;
    const ReadResult r = co_await ReadMore(deadline, "expect_silence", &error);
    switch (r) {
      case ReadResult::kTimeout:
        co_return out;  // kSilent
      case ReadResult::kData:
      case ReadResult::kEof:
      case ReadResult::kError:
        break;
    }
  }
  if (!buffer_.empty()) {
    out.status = SilenceOutcome::Status::kData;
    AppendBounded(&out.data, buffer_, options_.max_capture);
  } else if (!sticky_error_.ok()) {
    out.status = SilenceOutcome::Status::kError;
    out.transport_error = sticky_error_;
  } else {
    out.status = SilenceOutcome::Status::kPeerClosed;
  }
  co_return out;
}

asio::awaitable<CloseOutcome> Session::ExpectClose(Deadline deadline) {
  CloseOutcome out;
  if (transport_ == nullptr || closed_) {
    out.status = CloseOutcome::Status::kError;
    out.transport_error = absl::FailedPreconditionError("expect_close: not connected");
    co_return out;
  }
  auto take_buffer = [&] {
    out.data_bytes += buffer_.size();
    AppendBounded(&out.data, buffer_, options_.max_capture);
    buffer_.clear();
  };
  take_buffer();
  while (!peer_closed_) {
    if (out.data_bytes >= options_.max_drain) {
      out.flooded = true;
      transcript_.AddNote("stopped reading after " + std::to_string(out.data_bytes) +
                          " bytes while waiting for the close: the peer keeps sending");
      co_return out;  // kStillOpen
    }
    absl::Status error;
    const ReadResult r = co_await ReadMore(deadline, "expect_close", &error);
    if (r == ReadResult::kTimeout) {
      co_return out;  // kStillOpen; the bytes seen so far are consumed
    }
    take_buffer();
  }
  ResetReader();
  resync_ = false;
  if (sticky_error_.ok()) {
    out.status = CloseOutcome::Status::kClosed;
  } else {
    out.status = absl::IsUnavailable(sticky_error_) ? CloseOutcome::Status::kReset
                                                    : CloseOutcome::Status::kError;
    out.transport_error = sticky_error_;
  }
  co_return out;
}

asio::awaitable<absl::StatusOr<TlsInfo>> Session::StartTls(Deadline deadline,
                                                           std::optional<TlsOptions> tls) {
  if (!connected() || peer_closed_)
    co_return absl::FailedPreconditionError("starttls: not connected");
  discarded_before_tls_ = buffer_;
  if (!buffer_.empty()) {
    transcript_.AddNote("discarded " + std::to_string(buffer_.size()) +
                        " plaintext bytes received before the TLS handshake (RFC 3207 §4)");
  }
  buffer_.clear();
  ResetReader();
  resync_ = false;
  TlsOptions options = tls ? std::move(*tls) : options_.tls;
  if (options.server_name.empty() && target_.kind != Target::Kind::kExec) {
    options.server_name = target_.host;  // the transport sends no SNI for IP literals
  }
  absl::Status status = co_await transport_->StartTls(options, deadline);
  if (!status.ok()) {
    const bool timeout = absl::IsDeadlineExceeded(status);
    transcript_.AddEvent(timeout ? EntryKind::kTimeout : EntryKind::kError,
                         timeout ? std::string("start_tls") : Message(status));
    if (!absl::IsUnimplemented(status)) {
      sticky_error_ = status;  // a failed handshake leaves no usable stream
      peer_closed_ = true;
    }
    co_return status;
  }
  TlsInfo info = transport_->tls().value_or(TlsInfo{});
  transcript_.AddTls(info);
  co_return info;
}

asio::awaitable<absl::Status> Session::Close(Deadline deadline) {
  if (transport_ == nullptr || closed_) co_return absl::OkStatus();
  closed_ = true;
  absl::Status status = co_await transport_->Close(deadline);
  transcript_.AddEvent(EntryKind::kLocalClosed, Message(status));
  if (auto p = transport_->process(); p && !p->running) {
    transcript_.AddNote(p->exited ? "process exited with status " + std::to_string(p->exit_code)
                                  : "process killed by signal " + std::to_string(p->signal));
  }
  co_return status;
}

Transcript Session::TakeTranscript() {
  Transcript out = std::move(transcript_);
  transcript_ = Transcript(options_.transcript);
  return out;
}

}  // namespace smtp::harness
