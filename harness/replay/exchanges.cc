#include "harness/replay/exchanges.h"

#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <utility>

#include "parser/ascii.h"
#include "parser/bdat_reader.h"
#include "parser/data_reader.h"
#include "parser/leniency.h"
#include "parser/line_reader.h"

namespace smtp::replay {
namespace {

using harness::EntryKind;

// Recorded lines are read as a tolerant server would: a bare LF ends a
// line, and an AUTH line may be long. A longer line is still kept whole
// (the reader reports it as too long, the bytes are ours).
constexpr std::size_t kMaxRecordedLine = 64 * 1024;

// Replies as a tolerant client reads them; every deviation the parser
// knows is allowed (the record is what the server did, not a test of it).
ReplyOptions RecordedReplyOptions() {
  ReplyOptions o;
  o.leniencies = kAllLeniencies;
  return o;
}

class Splitter {
 public:
  explicit Splitter(Exchanges* out)
      : out_(*out),
        line_(LineReaderOptions{kBareLfLineEnd, kMaxRecordedLine}),
        reply_(RecordedReplyOptions()) {
    Exchange greeting;
    greeting.greeting = true;
    out_.exchanges.push_back(std::move(greeting));
    pending_.push_back({0, Sent::Kind::kCommand, Verb::kUnknown});
  }

  void Client(std::string_view in) {
    seen_data_ = true;
    while (!in.empty()) {
      switch (mode_) {
        case Mode::kCommand:
        case Mode::kSasl: {
          const std::size_t n = line_.Feed(in);
          cur_.append(in.substr(0, n));
          in.remove_prefix(n);
          if (line_.has_line()) EndLine();
          break;
        }
        case Mode::kData: {
          const std::size_t n = data_.Feed(in, &body_);
          cur_.append(in.substr(0, n));
          in.remove_prefix(n);
          if (data_.done()) {
            Sent s;
            s.kind = Sent::Kind::kDataBody;
            s.bytes = std::move(cur_);
            s.text = std::move(body_);
            cur_.clear();
            body_.clear();
            mode_ = Mode::kCommand;
            Emit(std::move(s));
          }
          break;
        }
        case Mode::kBdat: {
          const std::string_view piece = bdat_.Feed(in);
          cur_.append(piece);
          in.remove_prefix(piece.size());
          if (bdat_.done()) EndBdat();
          break;
        }
      }
    }
  }

  void Server(std::string_view in) {
    seen_data_ = true;
    while (!in.empty()) {
      if (skipping_) {
        const std::size_t lf = in.find('\n');
        const std::size_t skip = lf == std::string_view::npos ? in.size() : lf + 1;
        in.remove_prefix(skip);
        server_pos_ += skip;
        if (lf != std::string_view::npos) {
          skipping_ = false;
          reply_base_ = server_pos_;
        }
        continue;
      }
      const std::size_t n = reply_.Feed(in);
      reply_bytes_.append(in.substr(0, n));
      in.remove_prefix(n);
      server_pos_ += n;
      if (reply_.has_reply()) {
        OnReply(reply_.TakeReply(), std::move(reply_bytes_));
        reply_bytes_.clear();
      } else if (reply_.failed()) {
        out_.notes.push_back("server bytes at offset " +
                             std::to_string(reply_base_ + reply_.error().offset) +
                             " are not a reply (" + std::string(reply_.error().reason) +
                             "); skipped to the next line");
        out_.exchanges[pending_.empty() ? out_.exchanges.size() - 1 : pending_.front().exchange]
            .reply_error = true;
        reply_.Reset();
        reply_bytes_.clear();
        skipping_ = true;
      }
    }
  }

  // A TLS handshake: seen (intercepted) or opaque (nothing after it can be
  // read).
  void Tls(bool seen) {
    if (!seen_data_ && seen) {
      out_.implicit_tls = true;
      return;
    }
    if (!cur_.empty() || !reply_bytes_.empty()) {
      out_.notes.push_back("bytes cut off by the TLS handshake were dropped");
    }
    ResetReaders();
    Exchange& last = out_.exchanges.back();
    (seen ? last.tls_established : last.tls_opaque) = true;
    if (!seen) out_.tls_opaque = true;
  }

  void Finish(const harness::Transcript& t) {
    if (!cur_.empty()) {
      Sent s;
      s.kind = Sent::Kind::kPartial;
      s.bytes = std::move(cur_);
      cur_.clear();
      AddToExchange(std::move(s));
      out_.notes.push_back("the record ends in the middle of what the client was sending");
      out_.truncated = true;
    }
    if (!reply_bytes_.empty()) {
      out_.notes.push_back("the record ends in the middle of a reply");
      out_.truncated = true;
    }
    if (t.truncated()) {
      out_.notes.push_back("the transcript hit its storage cap; the rest was not stored");
      out_.truncated = true;
    }
  }

 private:
  enum class Mode : std::uint8_t { kCommand, kSasl, kData, kBdat };
  struct Pending {
    std::size_t exchange;
    Sent::Kind kind;
    Verb verb;
  };

  void ResetClient() {
    line_.Reset();
    cur_.clear();
    body_.clear();
    mode_ = Mode::kCommand;
  }

  void ResetReaders() {
    ResetClient();
    reply_.Reset();
    reply_bytes_.clear();
    skipping_ = false;
    reply_base_ = server_pos_;
  }

  void EndLine() {
    const std::size_t end_len = line_.terminator() == LineTerminator::kCrLf ? 2 : 1;
    Sent s;
    s.kind = mode_ == Mode::kSasl ? Sent::Kind::kSasl : Sent::Kind::kCommand;
    s.crlf = line_.terminator() == LineTerminator::kCrLf;
    s.text = cur_.substr(0, cur_.size() - end_len);
    s.bytes = std::move(cur_);
    cur_.clear();
    line_.Reset();
    if (mode_ == Mode::kSasl) {
      mode_ = Mode::kCommand;
      Emit(std::move(s));
      return;
    }
    CommandOptions opts;
    opts.leniencies = kAllLeniencies;
    opts.limits.command_line = kMaxRecordedLine;
    const Result<Command> c = ParseCommand(s.bytes, opts);
    s.verb = c.ok() ? c->verb : VerbOfFirstWord(s.text);
    if (c.ok() && c->verb == Verb::kBdat) {
      // The chunk follows the line; the unit is the line and the chunk.
      s.kind = Sent::Kind::kBdat;
      s.bdat_last = c->bdat_last;
      bdat_line_ = std::move(s);
      cur_ = bdat_line_.bytes;
      bdat_.Reset(c->chunk_size);
      mode_ = Mode::kBdat;
      if (bdat_.done()) EndBdat();
      return;
    }
    const bool data = s.verb == Verb::kData && c.ok();
    Emit(std::move(s));
    if (data) {
      data_.Reset();
      body_.clear();
      mode_ = Mode::kData;
    }
  }

  void EndBdat() {
    Sent s = std::move(bdat_line_);
    s.text = cur_.substr(s.bytes.size());
    s.bytes = std::move(cur_);
    cur_.clear();
    mode_ = Mode::kCommand;
    Emit(std::move(s));
  }

  // Adds a unit to the current exchange, or to a new one when a reply to
  // the current one has arrived (the client waited) or it is the greeting.
  std::size_t AddToExchange(Sent s) {
    const Exchange& last = out_.exchanges.back();
    if (last.greeting || !last.replies.empty() || last.tls_established) {
      out_.exchanges.emplace_back();
    }
    out_.exchanges.back().sent.push_back(std::move(s));
    return out_.exchanges.size() - 1;
  }

  void Emit(Sent s) {
    const Sent::Kind kind = s.kind;
    const Verb verb = s.verb;
    pending_.push_back({AddToExchange(std::move(s)), kind, verb});
  }

  void OnReply(Reply r, std::string bytes) {
    out_.peer_closed = false;
    if (pending_.empty() && !cur_.empty()) {
      // The server answered bytes that are not a whole unit as we frame
      // them: it ended the unit elsewhere. They are one raw unit, and the
      // client is back at a command.
      Sent s;
      s.kind = Sent::Kind::kRaw;
      s.bytes = std::move(cur_);
      ResetClient();
      Emit(std::move(s));
    }
    if (pending_.empty()) {
      Exchange& last = out_.exchanges.back();
      last.replies.push_back(std::move(r));
      last.reply_bytes.push_back(std::move(bytes));
      ++last.unsolicited;
      return;
    }
    const Pending p = pending_.front();
    pending_.pop_front();
    const bool idle = cur_.empty() && line_.offset() == 0;
    if (p.kind == Sent::Kind::kCommand && p.verb == Verb::kData && r.code != 354 &&
        mode_ == Mode::kData && data_.offset() == 0) {
      mode_ = Mode::kCommand;  // DATA refused: what follows are commands
    } else if ((p.verb == Verb::kAuth || p.kind == Sent::Kind::kSasl) &&
               r.code == kContinueReqCode && mode_ == Mode::kCommand && idle) {
      mode_ = Mode::kSasl;  // a challenge: the next line answers it
    }
    Exchange& x = out_.exchanges[p.exchange];
    x.replies.push_back(std::move(r));
    x.reply_bytes.push_back(std::move(bytes));
  }

  Exchanges& out_;
  LineReader line_;
  ReplyReader reply_;
  DataReader data_;
  BdatReader bdat_;
  Mode mode_ = Mode::kCommand;
  std::string cur_;             // the client unit so far, exactly as sent
  std::string body_;            // kData: the unstuffed body so far
  Sent bdat_line_;              // kBdat: the command line's unit
  std::string reply_bytes_;     // the reply so far, exactly as received
  bool skipping_ = false;       // after a reply error: dropping server bytes to LF
  std::size_t server_pos_ = 0;  // server bytes read so far (the stored stream)
  std::size_t reply_base_ = 0;  // where reply_ started reading (its offset 0)
  bool seen_data_ = false;
  std::deque<Pending> pending_;  // units (and the greeting) not answered yet
};

}  // namespace

Exchanges SplitExchanges(const harness::Transcript& t) {
  if (!FindDamage(t)) return SplitExchangesAsRecorded(t);
  Undamaged u = CutAtDamage(t);
  Exchanges out = SplitExchangesAsRecorded(u.transcript);
  if (out.exchanges.front().replies.empty()) out.exchanges.resize(1);
  out.damage = std::move(u.damage);
  out.notes.push_back("the record is damaged: " + out.damage->Describe() +
                      "; nothing after it is used");
  return out;
}

Exchanges SplitExchangesAsRecorded(const harness::Transcript& t) {
  Exchanges out;
  Splitter s(&out);
  for (const harness::Entry& e : t.entries()) {
    switch (e.kind) {
      case EntryKind::kClientToServer:
        s.Client(e.data);
        break;
      case EntryKind::kServerToClient:
        s.Server(e.data);
        break;
      case EntryKind::kTlsEstablished:
        s.Tls(true);
        break;
      case EntryKind::kTlsOpaque:
        s.Tls(false);
        s.Finish(t);
        return out;
      case EntryKind::kPeerClosed:
        out.peer_closed = true;
        break;
      default:
        break;
    }
  }
  s.Finish(t);
  return out;
}

}  // namespace smtp::replay
