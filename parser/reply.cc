#include "parser/reply.h"

#include "parser/byte_scan.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace smtp {
namespace {

// Octets that stop the strict text scan: everything outside textstring
// (%d09 / %d32-126), which includes CR and LF.
constexpr std::array<bool, 256> MakeStrictStop() {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c) t[c] = !(c == 9 || (c >= 32 && c <= 126));
  return t;
}
constexpr std::array<bool, 256> kStrictStop = MakeStrictStop();

// First octet in [p, end) that ends plain text: CR, LF, or (strict) any octet
// outside textstring.
const char* FindTextStop(const char* p, const char* end, bool loose) {
  return loose ? FindCrLf(p, end) : FindNonText(p, end);
}

// Reply-code = %x32-35 %x30-35 %x30-39: the allowed range of digit `pos`.
bool CodeDigitOk(std::size_t pos, char c) {
  switch (pos) {
    case 0:
      return c >= '2' && c <= '5';
    case 1:
      return c >= '0' && c <= '5';
    default:
      return c >= '0' && c <= '9';
  }
}

char ExpectedDigit(std::uint16_t code, std::size_t pos) {
  static constexpr std::uint16_t kDiv[3] = {100, 10, 1};
  return static_cast<char>('0' + code / kDiv[pos] % 10);
}

}  // namespace

bool ReplyReader::Fail(Errc code, std::size_t at, std::string_view reason) {
  error_ = ParseError{code, at, reason};
  return false;
}

// Limits apply to each octet as it joins the current line and reply.
bool ReplyReader::CheckLimits() {
  if (line_pos_ >= opts_.limits.reply_line) {
    return Fail(Errc::kLineTooLong, offset_, "RFC 5321 §4.5.3.1.5 reply line too long");
  }
  if (reply_pos_ >= opts_.limits.reply_bytes) {
    return Fail(Errc::kReplyTooLarge, offset_, "reply exceeds Limits::reply_bytes");
  }
  return true;
}

// Reply-code [ SP textstring ] CRLF               (RFC 5321 §4.2)
// continue-req = "334" SP [base64] CRLF           (RFC 4954 §4)
// textstring is 1*, so in RFC 5321 an SP needs text after it; a 334 is the
// exception: its SP is mandatory and the base64 after it optional ("334 "
// CRLF is the empty challenge of AUTH PLAIN).
bool ReplyReader::CheckLineEnd(std::size_t terminator_at) {
  if (sp_separator_ && text_.empty() && reply_.code != kContinueReqCode) {
    if (!(opts_.leniencies & kTrailingWhitespace)) {
      return Fail(Errc::kBadReplyText, terminator_at, "RFC 5321 §4.2: SP without textstring");
    }
    reply_.deviations |= kTrailingWhitespace;
  }
  return true;
}

// Reply-code [ SP textstring ] CRLF               (RFC 5321 §4.2)
// continue-req = "334" SP [base64] CRLF           (RFC 4954 §4)
// A last line that is the code alone is RFC 5321 Reply-line, but a 334 is a
// continue-req, whose SP is mandatory: "334" CRLF needs
// kChallengeWithoutSpace. (Were it strict, one reply would have two strict
// wire forms, and the canonical "334 " CRLF would be an octet longer than the
// input it came from.) Called with the CR or LF that follows the code.
bool ReplyReader::CheckCodeAlone() {
  if (reply_.code != kContinueReqCode) return true;
  if (!(opts_.leniencies & kChallengeWithoutSpace)) {
    return Fail(Errc::kBadReplySeparator, offset_, "RFC 4954 §4 continue-req: SP after 334");
  }
  reply_.deviations |= kChallengeWithoutSpace;
  return true;
}

void ReplyReader::EndLine() {
  reply_.lines.push_back(std::move(text_));
  text_.clear();
  if (last_line_) {
    reply_.enhanced = EnhancedCodeOfText(reply_.lines.front());
    done_ = true;
  } else {
    state_ = State::kCode;
    line_pos_ = 0;
    line_code_ = 0;
    sp_separator_ = false;
  }
}

void ReplyReader::StartReply() {
  reply_ = Reply{};
  text_.clear();
  line_pos_ = 0;
  reply_pos_ = 0;
  cr_at_ = 0;
  line_code_ = 0;
  state_ = State::kCode;
  last_line_ = false;
  sp_separator_ = false;
  done_ = false;
}

Reply ReplyReader::TakeReply() {
  Reply out = std::move(reply_);
  StartReply();
  return out;
}

void ReplyReader::Reset() {
  StartReply();
  error_ = ParseError{};
  offset_ = 0;
}

std::size_t ReplyReader::Feed(std::string_view in) {
  if (done_ || failed()) return 0;
  const char* const begin = in.data();
  const char* const end = begin + in.size();
  const char* p = begin;
  const auto advance = [&](std::size_t n) {
    p += n;
    offset_ += n;
    line_pos_ += n;
    reply_pos_ += n;
  };
  const Leniencies len = opts_.leniencies;

  while (p < end && !done_) {
    switch (state_) {
      case State::kCode: {
        if (line_pos_ == 0 && reply_.lines.size() >= opts_.limits.reply_lines) {
          Fail(Errc::kTooManyReplyLines, offset_, "reply exceeds Limits::reply_lines");
          return static_cast<std::size_t>(p - begin);
        }
        if (!CheckLimits()) return static_cast<std::size_t>(p - begin);
        const char c = *p;
        if (!CodeDigitOk(line_pos_, c)) {
          Fail(Errc::kBadReplyCode, offset_, "RFC 5321 §4.2 Reply-code");
          return static_cast<std::size_t>(p - begin);
        }
        if (!reply_.lines.empty() && c != ExpectedDigit(reply_.code, line_pos_)) {
          Fail(Errc::kInconsistentCode, offset_,
               "RFC 5321 §4.2.1: every line of a reply has the same code");
          return static_cast<std::size_t>(p - begin);
        }
        line_code_ = static_cast<std::uint16_t>(line_code_ * 10 + (c - '0'));
        advance(1);
        if (line_pos_ == 3) {
          if (reply_.lines.empty()) reply_.code = line_code_;
          state_ = State::kSeparator;
        }
        break;
      }

      case State::kSeparator: {
        if (!CheckLimits()) return static_cast<std::size_t>(p - begin);
        switch (*p) {
          case ' ':
            last_line_ = true;
            sp_separator_ = true;
            state_ = State::kText;
            advance(1);
            break;
          case '-':
            last_line_ = false;
            state_ = State::kText;
            advance(1);
            break;
          case '\r':
            if (!CheckCodeAlone()) return static_cast<std::size_t>(p - begin);
            last_line_ = true;
            cr_at_ = offset_;
            state_ = State::kCr;
            advance(1);
            break;
          case '\n':
            if (!CheckCodeAlone()) return static_cast<std::size_t>(p - begin);
            if (!(len & kBareLfLineEnd)) {
              Fail(Errc::kBareLf, offset_, "RFC 5321 §2.3.8: LF without CR");
              return static_cast<std::size_t>(p - begin);
            }
            reply_.deviations |= kBareLfLineEnd;
            last_line_ = true;
            advance(1);
            EndLine();
            break;
          default:
            Fail(Errc::kBadReplySeparator, offset_, "RFC 5321 §4.2: SP, \"-\" or CRLF after code");
            return static_cast<std::size_t>(p - begin);
        }
        break;
      }

      case State::kText: {
        // Bulk scan: stop at the first special octet or at the limit budget.
        const std::size_t line_room =
            opts_.limits.reply_line > line_pos_ ? opts_.limits.reply_line - line_pos_ : 0;
        const std::size_t reply_room =
            opts_.limits.reply_bytes > reply_pos_ ? opts_.limits.reply_bytes - reply_pos_ : 0;
        const std::size_t room = std::min(line_room, reply_room);
        if (room == 0) {
          CheckLimits();
          return static_cast<std::size_t>(p - begin);
        }
        const char* window = p + std::min(room, static_cast<std::size_t>(end - p));
        const char* stop = FindTextStop(p, window, (len & kLooseReplyText) != 0);
        if (stop != p) {
          if ((len & kLooseReplyText) && !(reply_.deviations & kLooseReplyText)) {
            // Record the deviation only if a non-textstring octet was taken.
            for (const char* q = p; q < stop; ++q) {
              if (kStrictStop[static_cast<unsigned char>(*q)]) {
                reply_.deviations |= kLooseReplyText;
                break;
              }
            }
          }
          text_.append(p, stop);
          advance(static_cast<std::size_t>(stop - p));
        }
        if (stop == window) break;  // out of input, or the next octet is past a limit
        if (*stop == '\r') {
          cr_at_ = offset_;
          state_ = State::kCr;
          advance(1);
        } else if (*stop == '\n') {
          if (!(len & kBareLfLineEnd)) {
            Fail(Errc::kBareLf, offset_, "RFC 5321 §2.3.8: LF without CR");
            return static_cast<std::size_t>(p - begin);
          }
          if (!CheckLineEnd(offset_)) return static_cast<std::size_t>(p - begin);
          reply_.deviations |= kBareLfLineEnd;
          advance(1);
          EndLine();
        } else {
          Fail(Errc::kBadReplyText, offset_, "RFC 5321 §4.2 textstring: HT or %d32-126");
          return static_cast<std::size_t>(p - begin);
        }
        break;
      }

      case State::kCr: {
        if (*p == '\n') {
          if (!CheckLimits() || !CheckLineEnd(cr_at_)) return static_cast<std::size_t>(p - begin);
          advance(1);
          EndLine();
        } else if (len & kBareCrLineEnd) {
          // The CR alone ended the line; *p starts the next one (or reply).
          if (!CheckLineEnd(cr_at_)) return static_cast<std::size_t>(p - begin);
          reply_.deviations |= kBareCrLineEnd;
          EndLine();
        } else {
          Fail(Errc::kBareCr, cr_at_, "RFC 5321 §2.3.8: CR without LF");
          return static_cast<std::size_t>(p - begin);
        }
        break;
      }
    }
  }
  return static_cast<std::size_t>(p - begin);
}

void ReplyReader::FeedEof() {
  if (done_ || failed()) return;
  if (state_ == State::kCr) {
    if (!(opts_.leniencies & kBareCrLineEnd)) {
      Fail(Errc::kBareCr, cr_at_, "RFC 5321 §2.3.8: CR without LF");
      return;
    }
    if (!CheckLineEnd(cr_at_)) return;
    reply_.deviations |= kBareCrLineEnd;
    EndLine();
    if (done_) return;
  }
  if (reply_pos_ != 0) Fail(Errc::kNeedMore, offset_, "stream ended inside a reply");
}

Result<Reply> ParseReply(std::string_view whole, const ReplyOptions& opts) {
  ReplyReader reader(opts);
  const std::size_t n = reader.Feed(whole);
  if (reader.failed()) return reader.error();
  if (!reader.has_reply()) {
    reader.FeedEof();
    if (reader.failed()) return reader.error();
    if (!reader.has_reply()) {
      return ParseError{Errc::kNeedMore, whole.size(), "RFC 5321 §4.2: incomplete reply"};
    }
  }
  if (n != whole.size()) {
    return ParseError{Errc::kTrailingGarbage, n, "bytes after a complete reply"};
  }
  return reader.TakeReply();
}

std::string SerializeReply(const Reply& r) {
  char code[3] = {ExpectedDigit(r.code, 0), ExpectedDigit(r.code, 1), ExpectedDigit(r.code, 2)};
  std::size_t size = 0;
  for (const std::string& line : r.lines) size += 6 + line.size();
  std::string out;
  out.reserve(size == 0 ? 5 : size);
  if (r.lines.empty()) {
    out.append(code, 3).append(r.code == kContinueReqCode ? " \r\n" : "\r\n");
    return out;
  }
  for (std::size_t i = 0; i < r.lines.size(); ++i) {
    const std::string& text = r.lines[i];
    out.append(code, 3);
    if (i + 1 < r.lines.size()) {
      out += '-';
    } else if (!text.empty() || r.code == kContinueReqCode) {
      out += ' ';  // RFC 4954 §4: "334" SP [base64]
    }
    out.append(text).append("\r\n");
  }
  return out;
}

std::optional<EnhancedCode> EnhancedCodeOfText(std::string_view text) {
  EnhancedCode code;
  const std::size_t n = EnhancedCode::Parse(text, &code);
  if (n == 0 || (n < text.size() && text[n] != ' ')) return std::nullopt;
  return code;
}

}  // namespace smtp
