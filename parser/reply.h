// SMTP replies, RFC 5321 §4.2 and §4.2.1: an incremental push reader (the
// client side of a session and the fuzzer feed it raw socket bytes), a
// stateless one-shot parser and the canonical serializer.
#ifndef SMTP_PARSER_REPLY_H_
#define SMTP_PARSER_REPLY_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parser/enhanced_code.h"
#include "parser/leniency.h"
#include "parser/limits.h"
#include "parser/result.h"

namespace smtp {

// The AUTH continuation (RFC 4954 §4): continue-req = "334" SP [base64] CRLF.
// "334 " CRLF (SP, empty challenge) is strictly valid for this code only, and
// "334" CRLF (no SP) is not: it needs kChallengeWithoutSpace.
inline constexpr std::uint16_t kContinueReqCode = 334;

struct ReplyOptions {
  // Leniencies the reader honours: kBareLfLineEnd, kBareCrLineEnd,
  // kLooseReplyText (control and 8-bit octets in text; never CR or LF),
  // kTrailingWhitespace ("250 " CRLF: SP with no text after it; a 334 needs
  // no leniency for that, see kContinueReqCode) and kChallengeWithoutSpace
  // ("334" CRLF).
  Leniencies leniencies = kStrict;
  // reply_line (per line, incl. CRLF), reply_lines, reply_bytes (whole reply,
  // incl. every CRLF).
  Limits limits;
};

// One complete reply. Owns its text (replies are not on the per-command hot
// path).
struct Reply {
  std::uint16_t code = 0;
  // The text of each line, without code, separator and line end. A parsed
  // Reply has at least one line; "250" CRLF gives one empty line.
  std::vector<std::string> lines;
  // RFC 2034 §4: the status-code the first line's text starts with (followed
  // by SP or the end of the text). Derived from lines[0]; the text keeps it.
  std::optional<EnhancedCode> enhanced;
  Leniencies deviations = kStrict;  // leniencies that fired

  bool multiline() const { return lines.size() > 1; }

  friend bool operator==(const Reply&, const Reply&) = default;
};

// Incremental reply reader in the style of Beast's basic_parser: the caller
// pushes bytes, the reader consumes what belongs to the current reply and
// stops once a reply is complete, so pipelined replies that arrive back to
// back are taken one at a time.
//
//   ReplyReader r;
//   while (...) {
//     std::size_t n = r.Feed(buf);  buf.remove_prefix(n);
//     if (r.has_reply()) Handle(r.TakeReply());   // then feed the rest of buf
//     else if (r.failed()) Fail(r.error());
//     else /* need more: read from the socket */;
//   }
//
// Memory is bounded by Limits whatever the input: a line is rejected at the
// first octet past limits.reply_line, a reply at the first octet past
// limits.reply_bytes and at the first octet of line limits.reply_lines + 1.
// Errors are sticky until Reset(); the offending octet is not consumed (for
// kBareCr the CR it points at was consumed when it arrived).
class ReplyReader {
 public:
  explicit ReplyReader(const ReplyOptions& opts = {}) : opts_(opts) {}

  // Reply-line = *( Reply-code "-" [ textstring ] CRLF )
  //              Reply-code [ SP textstring ] CRLF          (RFC 5321 §4.2)
  // Reply-code = %x32-35 %x30-35 %x30-39
  // textstring = 1*(%d09 / %d32-126)
  // continue-req = "334" SP [base64] CRLF                  (RFC 4954 §4)
  // (a 334 reply is read as Reply-line but for its last line, which keeps
  // the SP even when no text follows)
  //
  // Consumes a prefix of `in` and returns its length. Returns 0 without
  // looking at `in` while a reply is waiting to be taken or after an error.
  // A reply completes at its last LF, except that with kBareCrLineEnd a final
  // bare CR completes it only when the next octet (not consumed) or FeedEof()
  // arrives.
  std::size_t Feed(std::string_view in);

  // The peer closed the stream. Resolves a pending bare CR (kBareCrLineEnd);
  // otherwise, mid-reply, sets kNeedMore at the current offset.
  void FeedEof();

  bool has_reply() const { return done_; }
  bool failed() const { return error_.code != Errc::kOk; }
  // Neither a reply nor an error: more bytes are needed.
  bool need_more() const { return !done_ && !failed(); }

  const Reply& reply() const { return reply_; }  // valid while has_reply()
  // Moves the complete reply out and readies the reader for the next one.
  Reply TakeReply();

  // The error; offset is absolute (from the first octet ever fed since
  // construction or Reset()).
  const ParseError& error() const { return error_; }

  // Octets consumed since construction or Reset().
  std::size_t offset() const { return offset_; }

  // Back to the initial state: no reply, no error, offset 0.
  void Reset();

 private:
  enum class State : std::uint8_t { kCode, kSeparator, kText, kCr };

  bool Fail(Errc code, std::size_t at, std::string_view reason);
  bool CheckLimits();  // for the octet at offset_ joining the current line
  bool CheckLineEnd(std::size_t terminator_at);  // SP needs textstring
  bool CheckCodeAlone();                         // "334" CRLF needs SP
  void EndLine();
  void StartReply();

  ReplyOptions opts_;
  Reply reply_;
  std::string text_;  // text of the current line so far
  ParseError error_;
  std::size_t offset_ = 0;     // absolute offset of the next octet
  std::size_t line_pos_ = 0;   // octets of the current line consumed
  std::size_t reply_pos_ = 0;  // octets of the current reply consumed
  std::size_t cr_at_ = 0;      // offset of a pending CR (State::kCr)
  std::uint16_t line_code_ = 0;
  State state_ = State::kCode;
  bool last_line_ = false;     // separator was SP, CR or LF
  bool sp_separator_ = false;  // separator was SP
  bool done_ = false;
};

// Parses exactly one reply that spans all of `whole`. Errors: those of
// ReplyReader, kNeedMore for an incomplete reply, kTrailingGarbage for bytes
// after the reply. Offsets are relative to `whole`.
Result<Reply> ParseReply(std::string_view whole, const ReplyOptions& opts = {});

// Canonical wire form: "250-a\r\n250 b\r\n"; an empty last line is "250\r\n"
// (but "334 \r\n": RFC 4954 §4 requires the SP) and an empty continuation
// line "250-\r\n"; no lines at all serialize as one empty line. Every reply
// r accepted in strict mode has one wire form, which this returns: its input,
// octet for octet (so it fits the same limits), and
// ParseReply(SerializeReply(r)) == r.
std::string SerializeReply(const Reply& r);

// The enhanced status code a reply text starts with, per RFC 2034 §4
// (status-code followed by SP or the end of the text); nullopt otherwise.
std::optional<EnhancedCode> EnhancedCodeOfText(std::string_view text);

}  // namespace smtp

#endif  // SMTP_PARSER_REPLY_H_
