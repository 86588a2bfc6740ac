#include "app/parse_stream.h"

#include <string>
#include <utility>

#include "app/wire_json.h"
#include "harness/server/sink.h"
#include "parser/command.h"
#include "parser/extensions.h"
#include "parser/reply.h"

namespace smtp::app {
namespace {

using nlohmann::json;

// Lines are cut at LF; each is held up to kHeldCommandLine octets and the
// rest only counted.
class CommandStream final : public ParseStream {
 public:
  CommandStream(bool exact, Leniencies len, EmitJson emit) : exact_(exact), emit_(std::move(emit)) {
    opts_.leniencies = len;
    held_.reserve(kHeldCommandLine);
  }

  bool Feed(std::string_view in) override {
    while (!in.empty()) {
      const std::size_t lf = in.find('\n');
      const std::size_t take = lf == std::string_view::npos ? in.size() : lf + 1;
      held_.append(in.substr(0, std::min(take, kHeldCommandLine - held_.size())));
      line_len_ += take;
      in.remove_prefix(take);
      if (lf != std::string_view::npos) EndLine();
    }
    return true;
  }

  void Finish() override {
    if (line_len_ > 0) EndLine();  // a last line without LF
  }

  int rejected() const override { return rejected_; }

 private:
  void EndLine() {
    ++line_no_;
    const bool truncated = line_len_ > held_.size();
    std::string framed;
    std::string_view line = held_;
    if (!exact_ && !truncated) {
      std::string_view body = held_;
      if (!body.empty() && body.back() == '\n') body.remove_suffix(1);
      if (!body.empty() && body.back() == '\r') body.remove_suffix(1);
      framed.reserve(body.size() + 2);
      framed.append(body).append("\r\n");
      line = framed;
    }
    json j = {{"line", line_no_}, {"offset", offset_}, {"input", std::string(line)}};
    if (truncated) {
      j["input_length"] = line_len_;
      j["truncated"] = true;
    }
    auto r = ParseCommand(line, opts_);
    if (r.ok()) {
      j["ok"] = true;
      j["command"] = CommandJson(*r);
      j["canonical"] = SerializeCommand(*r);
      // A later RCPT may carry UTF-8 when this transaction uses SMTPUTF8.
      if (r->verb == Verb::kMail) opts_.utf8 = r->params.smtputf8;
      if (r->verb == Verb::kRset || r->verb == Verb::kEhlo || r->verb == Verb::kHelo) {
        opts_.utf8 = false;
      }
    } else {
      j["ok"] = false;
      j["error"] = ErrorJson(r.error());
      ++rejected_;
    }
    emit_(j);
    offset_ += line_len_;
    line_len_ = 0;
    held_.clear();
  }

  const bool exact_;
  EmitJson emit_;
  CommandOptions opts_;
  std::string held_;          // the current line's first octets
  std::size_t line_len_ = 0;  // octets of the current line so far
  std::size_t offset_ = 0;    // stream offset of the current line
  std::size_t line_no_ = 0;
  int rejected_ = 0;
};

json ReplyJson(const Reply& r) {
  json j = {{"code", r.code}, {"lines", r.lines}, {"multiline", r.multiline()}};
  if (r.enhanced) j["enhanced"] = r.enhanced->ToString();
  j["deviations"] = DeviationsJson(r.deviations);
  return j;
}

json ExtensionsJson(const ExtensionSet& e) {
  json j = {{"domain", e.domain}, {"keywords", e.keywords}};
  if (e.size) j["size"] = *e.size;
  if (!e.auth.empty()) j["auth"] = e.auth;
  json others = json::array();
  for (const auto& o : e.others) {
    json x = {{"keyword", o.keyword}, {"params", o.params}};
    if (o.malformed) x["malformed"] = true;
    if (o.bad_params) x["bad_params"] = true;
    others.push_back(std::move(x));
  }
  j["others"] = std::move(others);
  if (!e.duplicates.empty()) j["duplicates"] = e.duplicates;
  return j;
}

// ReplyReader holds at most one reply (Limits::reply_bytes); parsing stops
// at the first malformed one.
class ReplyStream final : public ParseStream {
 public:
  ReplyStream(Leniencies len, EmitJson emit) : reader_(Options(len)), emit_(std::move(emit)) {}

  bool Feed(std::string_view in) override {
    while (!in.empty() && !stopped_) {
      const std::size_t n = reader_.Feed(in);
      in.remove_prefix(n);
      const bool settled = reader_.has_reply() || reader_.failed();
      Settle();
      if (n == 0 && !settled) break;  // cannot happen (Feed's contract); never spin
    }
    return !stopped_;
  }

  void Finish() override {
    if (stopped_) return;
    reader_.FeedEof();
    Settle();
  }

  int rejected() const override { return stopped_ ? 1 : 0; }

 private:
  static ReplyOptions Options(Leniencies len) {
    ReplyOptions opts;
    opts.leniencies = len;
    return opts;
  }

  // Emits a complete reply or the error.
  void Settle() {
    if (reader_.has_reply()) {
      Reply r = reader_.TakeReply();
      json j = {{"offset", start_}, {"ok", true}, {"reply", ReplyJson(r)}};
      // A multiline 250 whose lines look like ehlo-lines is decoded as EHLO.
      if (r.code == 250 && r.multiline()) j["ehlo"] = ExtensionsJson(DecodeEhlo(r));
      emit_(j);
      start_ = reader_.offset();
    } else if (reader_.failed()) {
      emit_({{"offset", start_}, {"ok", false}, {"error", ErrorJson(reader_.error())}});
      stopped_ = true;
    }
  }

  ReplyReader reader_;
  EmitJson emit_;
  std::size_t start_ = 0;  // stream offset of the reply being read
  bool stopped_ = false;
};

// The body goes to a counter, a SHA-256 and a kDataPreview-octet preview;
// after the end of data, up to kDataPreview octets are held for "after_end"
// before the body's object is emitted and they are parsed as commands.
class DataStream final : public ParseStream {
 public:
  DataStream(DataEndMode mode, Leniencies len, EmitJson emit)
      : reader_(Options(mode)), commands_(/*exact=*/true, len, emit), emit_(std::move(emit)) {}

  bool Feed(std::string_view in) override {
    if (phase_ == Phase::kBody) {
      in.remove_prefix(reader_.Feed(in, [this](std::string_view piece) { Body(piece); }));
      if (!reader_.done()) return true;
      phase_ = Phase::kAfterEnd;
    }
    if (phase_ == Phase::kAfterEnd) {
      const std::size_t room = kDataPreview - after_.size();
      if (in.size() <= room) {
        after_.append(in);
        return true;
      }
      after_.append(in.substr(0, room));
      in.remove_prefix(room);
      EmitBody(/*after_truncated=*/true);
    }
    commands_.Feed(in);
    return true;
  }

  void Finish() override {
    if (phase_ != Phase::kCommands) EmitBody(/*after_truncated=*/false);
    commands_.Finish();
    rejected_ = (reader_.done() ? 0 : 1) + (commands_.rejected() > 0 ? 1 : 0);
  }

  int rejected() const override { return rejected_; }

 private:
  enum class Phase { kBody, kAfterEnd, kCommands };

  static DataReaderOptions Options(DataEndMode mode) {
    DataReaderOptions opts;
    opts.mode = mode;
    return opts;
  }

  void Body(std::string_view piece) {
    body_len_ += piece.size();
    sha_.Update(piece);
    if (preview_.size() < kDataPreview) {
      preview_.append(piece.substr(0, kDataPreview - preview_.size()));
    }
  }

  // Emits the body's object, then parses the held octets after the end as
  // commands.
  void EmitBody(bool after_truncated) {
    json j = {{"mode", std::string(DataEndModeName(reader_.options().mode))},
              {"ended", reader_.done()},
              {"consumed", reader_.offset()},
              {"body", preview_},
              {"body_length", body_len_},
              {"body_sha256", sha_.FinalHex()}};
    if (body_len_ > preview_.size()) j["body_truncated"] = true;
    if (reader_.done()) {
      const DataEnd& e = reader_.end();
      j["end"] = {{"before", std::string(WireEndName(e.before))},
                  {"after", std::string(WireEndName(e.after))},
                  {"dot_offset", e.dot_offset},
                  {"standard", e.standard()}};
    }
    json events = json::array();
    for (const DataEvent& ev : reader_.events()) {
      events.push_back({{"kind", std::string(DataEventKindName(ev.kind))}, {"offset", ev.offset}});
    }
    j["events"] = std::move(events);
    if (reader_.dropped_events()) j["dropped_events"] = reader_.dropped_events();
    if (auto le = reader_.line_error()) j["line_error"] = ErrorJson(*le);
    if (!reader_.done()) {
      j["ok"] = false;
      j["error"] = ErrorJson({Errc::kNeedMore, reader_.offset(),
                              "RFC 5321 §4.1.1.4: input ended before <CRLF>.<CRLF>"});
    } else {
      j["ok"] = true;
      if (!after_.empty()) j["after_end"] = after_;
      if (after_truncated) j["after_end_truncated"] = true;
    }
    emit_(j);
    phase_ = Phase::kCommands;
    commands_.Feed(after_);
    after_ = std::string();
  }

  DataReader reader_;
  CommandStream commands_;
  EmitJson emit_;
  Phase phase_ = Phase::kBody;
  server::Sha256 sha_;
  std::string preview_;  // the body's first kDataPreview octets
  std::size_t body_len_ = 0;
  std::string after_;  // octets after the end of data, until emitted
  int rejected_ = 0;
};

}  // namespace

std::unique_ptr<ParseStream> MakeCommandStream(bool exact, Leniencies len, EmitJson emit) {
  return std::make_unique<CommandStream>(exact, len, std::move(emit));
}

std::unique_ptr<ParseStream> MakeReplyStream(Leniencies len, EmitJson emit) {
  return std::make_unique<ReplyStream>(len, std::move(emit));
}

std::unique_ptr<ParseStream> MakeDataStream(DataEndMode mode, Leniencies len, EmitJson emit) {
  return std::make_unique<DataStream>(mode, len, std::move(emit));
}

}  // namespace smtp::app
