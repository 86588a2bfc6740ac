// Fuzz target: reply assembly (ReplyReader, ParseReply, SerializeReply),
// DecodeEhlo and enhanced status codes (parser/reply.h, extensions.h,
// enhanced_code.h).
//
// Header (6 bytes): [0..1] leniency bits; [2] bits0-1 limits; [3]
// tight-limit parameter; [4..5] split seed. Payload: a stream of replies as
// a server sends them.
//
// Oracles:
// - reader: consumed <= input, offset() counts it, "need more" consumed
//   everything, error offsets inside the input, every reply within the
//   limits; split feeding gives the same replies and error as one-shot;
// - strict ⊂ lenient: the replies strict reading accepts come out equal
//   under the chosen leniencies, and lenient reading fails no earlier;
// - honest deviations: each reply's own bytes parse again with exactly the
//   reported deviations to the same reply;
// - round trip: SerializeReply → ParseReply (strict, but for loose text) is
//   equal and re-serializes identically;
// - DecodeEhlo: keywords unique and upper case, typed fields agree with Has();
// - enhanced codes: a parsed code prints back to the octets it came from.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "parser/enhanced_code.h"
#include "parser/extensions.h"
#include "parser/reply.h"

namespace {

using smtp::Leniencies;
using smtp::Reply;
using smtp::ReplyOptions;

struct Record {
  Reply reply;
  std::size_t begin = 0;  // stream offsets of the reply's bytes
  std::size_t end = 0;
};

struct Run {
  std::vector<Record> replies;
  std::optional<smtp::ParseError> error;  // the error that stopped reading, if any
  std::size_t consumed = 0;
};

bool SameReply(const Reply& a, const Reply& b) {
  return a.code == b.code && a.lines == b.lines && a.enhanced == b.enhanced;
}

void CheckEnhanced(std::string_view text) {
  smtp::EnhancedCode code;
  const std::size_t n = smtp::EnhancedCode::Parse(text, &code);
  FUZZ_CHECK(n <= text.size(), "a status-code spans part of the text");
  const smtp::Result<smtp::EnhancedCode> whole = smtp::ParseEnhancedCode(text);
  if (!whole.ok()) {
    FUZZ_CHECK(whole.error().code == smtp::Errc::kBadEnhancedCode, "kBadEnhancedCode");
    FUZZ_CHECK(whole.error().offset <= text.size(), "error offset within the text");
  }
  FUZZ_CHECK(whole.ok() == (n != 0 && n == text.size()), "ParseEnhancedCode is Parse on all");
  if (n == 0) return;
  FUZZ_CHECK(code.klass == 2 || code.klass == 4 || code.klass == 5, "class is 2, 4 or 5");
  FUZZ_CHECK(code.subject <= 999 && code.detail <= 999, "sub-codes have 1 to 3 digits");
  const std::string printed = code.ToString();
  FUZZ_CHECK(printed == text.substr(0, n), "a status-code prints back to its octets");
  const smtp::Result<smtp::EnhancedCode> again = smtp::ParseEnhancedCode(printed);
  FUZZ_CHECK(again.ok() && *again == code, "ParseEnhancedCode(ToString(c)) == c");
  FUZZ_CHECK(smtp::Describe(code).starts_with(printed), "Describe starts with the code");
}

void CheckEhlo(const Reply& reply) {
  const smtp::ExtensionSet set = smtp::DecodeEhlo(reply);
  FUZZ_CHECK(set == smtp::DecodeEhlo(reply), "DecodeEhlo is deterministic");
  if (reply.code != 250) {
    FUZZ_CHECK(set == smtp::ExtensionSet{}, "a non-250 reply decodes to nothing");
    return;
  }
  FUZZ_CHECK(set.ok, "a 250 reply is ok");
  const std::string& first = reply.lines.front();
  FUZZ_CHECK(first.starts_with(set.domain), "domain starts the first line");
  for (std::size_t i = 0; i < set.keywords.size(); ++i) {
    const std::string& k = set.keywords[i];
    FUZZ_CHECK(
        !k.empty() && std::none_of(k.begin(), k.end(), [](char c) { return c >= 'a' && c <= 'z'; }),
        "keywords are upper case");
    FUZZ_CHECK(std::find(set.keywords.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                         set.keywords.end(), k) == set.keywords.end(),
               "keywords are unique");
    FUZZ_CHECK(set.Has(k), "Has() finds every keyword");
  }
  for (const std::string& d : set.duplicates) {
    FUZZ_CHECK(std::count(set.duplicates.begin(), set.duplicates.end(), d) == 1,
               "duplicates are listed once");
    FUZZ_CHECK(set.Has(d), "a duplicate is a keyword");
  }
  const struct {
    bool flag;
    const char* keyword;
  } typed[] = {{set.pipelining, "PIPELINING"}, {set.chunking, "CHUNKING"},
               {set.binarymime, "BINARYMIME"}, {set.smtputf8, "SMTPUTF8"},
               {set.eightbitmime, "8BITMIME"}, {set.dsn, "DSN"},
               {set.starttls, "STARTTLS"},     {set.enhancedstatuscodes, "ENHANCEDSTATUSCODES"},
               {set.size_advertised, "SIZE"},  {!set.auth.empty(), "AUTH"}};
  for (const auto& t : typed)
    FUZZ_CHECK(!t.flag || set.Has(t.keyword), "a typed field is a keyword");
  FUZZ_CHECK(!set.size || set.size_advertised, "a SIZE value implies SIZE");
  FUZZ_CHECK(set.others.size() < reply.lines.size(), "at most one extension entry per line");
  FUZZ_CHECK(set.keywords.size() < reply.lines.size(), "at most one keyword per line");
}

void CheckReply(const Reply& r, const ReplyOptions& opts) {
  FUZZ_CHECK(r.code >= 200 && r.code <= 559 && r.code / 10 % 10 <= 5, "Reply-code range");
  FUZZ_CHECK(!r.lines.empty(), "a reply has a line");
  FUZZ_CHECK(r.lines.size() <= opts.limits.reply_lines, "reply_lines limit");
  FUZZ_CHECK((r.deviations & ~opts.leniencies) == 0, "only allowed leniencies fire");
  std::size_t bytes = 0;
  for (const std::string& line : r.lines) {
    FUZZ_CHECK(line.size() + 4 <= opts.limits.reply_line, "reply_line limit");
    bytes += line.size() + 4;
    FUZZ_CHECK(line.find_first_of("\r\n") == std::string::npos, "no CR or LF in reply text");
    if ((r.deviations & smtp::kLooseReplyText) == 0) {
      FUZZ_CHECK(std::all_of(line.begin(), line.end(),
                             [](char c) { return c == '\t' || (c >= 32 && c <= 126); }),
                 "strict text is textstring");
    }
    CheckEnhanced(line);
  }
  FUZZ_CHECK(bytes <= opts.limits.reply_bytes, "reply_bytes limit");
  FUZZ_CHECK(r.enhanced == smtp::EnhancedCodeOfText(r.lines.front()), "enhanced code of line 1");
  CheckEhlo(r);

  // Round trip. A strict reply serializes to its own bytes, so it fits the
  // same limits. A bare LF or CR is one octet shorter than CRLF, and "334"
  // CRLF one octet shorter than the canonical "334 " CRLF, so the length
  // limits are widened for replies that used such a deviation.
  const std::string wire = smtp::SerializeReply(r);
  ReplyOptions again;
  again.limits = opts.limits;
  again.leniencies = r.deviations & smtp::kLooseReplyText;
  if (r.deviations & (smtp::kBareLfLineEnd | smtp::kBareCrLineEnd)) {
    again.limits.reply_line += 1;
    again.limits.reply_bytes += r.lines.size();
  }
  if (r.deviations & smtp::kChallengeWithoutSpace) {  // the last line only
    again.limits.reply_line += 1;
    again.limits.reply_bytes += 1;
  }
  const smtp::Result<Reply> rt = smtp::ParseReply(wire, again);
  FUZZ_CHECK(rt.ok(), "the canonical form parses (strictly, but for loose text)");
  FUZZ_CHECK(SameReply(*rt, r), "parse(serialize(r)) == r");
  FUZZ_CHECK(smtp::SerializeReply(*rt) == wire, "serialize(parse(serialize(r))) == serialize(r)");
}

// Reads the whole stream, one-shot (split == nullptr) or in chunks.
Run Read(std::string_view input, const ReplyOptions& opts, smtp::fuzz::Splitter* split,
         bool check) {
  smtp::ReplyReader reader(opts);
  Run run;
  std::size_t pos = 0;
  std::size_t begin = 0;
  std::string_view piece;
  std::size_t rounds = 0;
  for (;;) {
    FUZZ_CHECK(++rounds <= 4 * input.size() + 16, "ReplyReader makes progress");
    if (piece.empty()) {
      if (pos == input.size()) break;
      const std::size_t left = input.size() - pos;
      piece = input.substr(pos, split ? split->Next(left) : left);
    }
    const std::size_t n = reader.Feed(piece);
    FUZZ_CHECK(n <= piece.size(), "Feed consumes at most its input");
    pos += n;
    piece.remove_prefix(n);
    FUZZ_CHECK(reader.offset() == pos, "offset() counts consumed bytes");
    if (reader.has_reply()) {
      if (check) CheckReply(reader.reply(), opts);
      run.replies.push_back({reader.TakeReply(), begin, pos});
      begin = pos;
      continue;
    }
    if (reader.failed()) break;
    FUZZ_CHECK(reader.need_more() && piece.empty(), "needing more, Feed consumed everything");
  }
  if (!reader.failed()) {
    reader.FeedEof();
    if (reader.has_reply()) {
      if (check) CheckReply(reader.reply(), opts);
      run.replies.push_back({reader.TakeReply(), begin, pos});
    }
  }
  if (reader.failed()) {
    run.error = reader.error();
    FUZZ_CHECK(run.error->code != smtp::Errc::kOk, "a failure has a code");
    FUZZ_CHECK(run.error->offset <= input.size(), "error offset within the input");
    FUZZ_CHECK(reader.Feed(input.substr(pos)) == 0, "errors are sticky");
  }
  run.consumed = pos;
  return run;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  smtp::fuzz::FuzzInput in(data, size);
  ReplyOptions opts;
  opts.leniencies = in.TakeLeniencies();
  const std::uint8_t flags = in.Byte();
  opts.limits = smtp::fuzz::ChooseLimits(flags, in.Byte());
  const std::uint16_t seed = in.U16();
  const std::string_view payload = in.Rest();

  const Run whole = Read(payload, opts, nullptr, /*check=*/true);
  smtp::fuzz::Splitter splitter(seed);
  const Run pieces = Read(payload, opts, &splitter, /*check=*/false);
  FUZZ_CHECK(whole.consumed == pieces.consumed && whole.error == pieces.error &&
                 whole.replies.size() == pieces.replies.size(),
             "split feeding gives the same stream as one-shot feeding");
  for (std::size_t i = 0; i < whole.replies.size(); ++i) {
    FUZZ_CHECK(whole.replies[i].reply == pieces.replies[i].reply &&
                   whole.replies[i].end == pieces.replies[i].end,
               "split feeding gives the same replies");
  }

  // Honest deviations: each reply's own bytes, parsed with exactly its
  // deviations, give it back.
  for (const Record& rec : whole.replies) {
    ReplyOptions exact = opts;
    exact.leniencies = rec.reply.deviations;
    const smtp::Result<Reply> e =
        smtp::ParseReply(payload.substr(rec.begin, rec.end - rec.begin), exact);
    FUZZ_CHECK(e.ok() && *e == rec.reply,
               "the reported deviations suffice and give the same reply");
  }

  // Strict ⊂ lenient.
  ReplyOptions strict = opts;
  strict.leniencies = smtp::kStrict;
  const Run s = Read(payload, strict, nullptr, /*check=*/false);
  FUZZ_CHECK(s.replies.size() <= whole.replies.size(), "lenient reads every strict reply");
  for (std::size_t i = 0; i < s.replies.size(); ++i) {
    FUZZ_CHECK(s.replies[i].reply.deviations == smtp::kStrict, "strict reports no deviation");
    FUZZ_CHECK(SameReply(s.replies[i].reply, whole.replies[i].reply) &&
                   s.replies[i].end == whole.replies[i].end,
               "lenient gives the strict replies");
  }
  if (whole.error && s.error) {
    FUZZ_CHECK(whole.error->offset >= s.error->offset, "lenient fails no earlier than strict");
  }
  if (whole.error) FUZZ_CHECK(s.error.has_value(), "lenient fails only where strict fails too");

  // ParseReply agrees with the stream reader.
  const smtp::Result<Reply> one = smtp::ParseReply(payload, opts);
  if (one.ok()) {
    FUZZ_CHECK(!whole.replies.empty() && *one == whole.replies[0].reply &&
                   whole.replies[0].end == payload.size(),
               "ParseReply is the reader's only reply");
  } else {
    FUZZ_CHECK(one.error().offset <= payload.size(), "ParseReply error offset within the input");
  }
  return 0;
}
