// DataReader: the incremental reader of a DATA body (RFC 5321 §4.1.1.4 end of
// mail data, §4.5.2 transparency). It removes the dot-stuffing, finds the end
// of data, and records every line-ending irregularity that matters for SMTP
// smuggling, with absolute stream offsets.
//
// Beast-style contract: Feed(bytes, sink) consumes bytes and returns how many;
// it stops right after the end-of-data sequence, so the unconsumed rest is the
// next command (pipelining, smuggled commands). Before the end every byte is
// consumed ("need more" is the only resumable condition). The reader holds no
// body bytes of its own: memory is constant whatever the line lengths.
//
// DotStuff is the inverse: it produces the wire form of a body.
#ifndef SMTP_PARSER_DATA_READER_H_
#define SMTP_PARSER_DATA_READER_H_

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "parser/limits.h"
#include "parser/parse_error.h"

namespace smtp {

// Which sequences end the data. Only kStrict follows the RFC; the others
// model real servers so the harness can predict where they see the end of a
// message. Security note: a relay in one mode forwarding to a server in a
// more lenient mode is the SMTP smuggling setup (CVE-2023-51764/5/6).
enum class DataEndMode : std::uint8_t {
  // RFC 5321 §4.1.1.4: only <CRLF>.<CRLF>; lines end only at CRLF, so a dot
  // is unstuffed only after CRLF. Bare CR and LF are carried as content.
  // The end detection of chasquid (2023-12-26 fix), go-smtp (PR #246,
  // 2024-01) and qmail-smtpd; Postfix 3.9 with smtpd_forbid_bare_newline=
  // reject ends the same way (and rejects the bare LF).
  kStrict,
  // LF alone also ends a line (so ".." after a bare LF is unstuffed), but
  // only <CRLF>.<CRLF> ends the data. Approximates Postfix
  // smtpd_forbid_bare_newline=normalize ("require the standard End-of-DATA
  // sequence", 3.9 default) and Sendmail 8.18 srv_features "o" with "G";
  // how those unstuff a dot after a bare LF is not documented.
  kLfLinesStrictEnd,
  // LF or CRLF ends a line; "." followed by LF or CRLF after either ends
  // the data: <LF>.<LF>, <LF>.<CRLF>, <CRLF>.<LF>. Sendmail before 8.18
  // (collect.c: IS_BOL after '\n'; CVE-2023-51765), Exim before 4.97.1
  // (read_message_data_smtp, state "after [CR]LF"; CVE-2023-51766), Dovecot
  // istream-dot with ISTREAM_DOT_LOOSE_EOT; qpsmtpd accepts <LF>.<CRLF>.
  kBareLf,
  // As kBareLf, but any number of CRs before the LF are dropped, so
  // <CRLF>.<CR><CR><LF> also ends the data. Postfix 3.8.4 and older with
  // smtpd_forbid_bare_newline=no (smtp_get strips every CR before LF;
  // CVE-2023-51764; the CR part fixed in 3.9-20240106 and 3.8.5).
  kBareLfStripCr,
  // CR, LF and CRLF each end a line, so <CR>.<CR>, <LF>.<CR>, <CR>.<LF>...
  // all end the data; after "." CR the next byte decides whether the LF is
  // part of the end. Cisco Secure Email Gateway with CR/LF handling "Clean"
  // (bare CR and LF rewritten to CRLF first), per the SEC Consult 2023
  // smuggling research and CERT-EU advisory 2023-098.
  kAnyLineEnd,
};

// Stable name: "strict", "lf_lines_strict_end", "bare_lf", "bare_lf_strip_cr",
// "any_line_end".
std::string_view DataEndModeName(DataEndMode m);

// One irregularity seen in the body. Offsets are absolute stream offsets: of
// the CR/LF for kBareCr/kBareLf, of the '.' for the dot sequences, of the NUL
// for kNulDot, of the first octet past the limit for kLineTooLong.
enum class DataEventKind : std::uint8_t {
  kBareCr,       // CR not followed by LF
  kBareLf,       // LF not preceded by CR
  kLfDotLf,      // <LF>.<LF>
  kLfDotCrLf,    // <LF>.<CR><LF>
  kLfDotCr,      // <LF>.<CR> not followed by LF
  kCrDotLf,      // <CR>.<LF>
  kCrDotCrLf,    // <CR>.<CR><LF>
  kCrDotCr,      // <CR>.<CR> not followed by LF
  kCrLfDotLf,    // <CR><LF>.<LF>
  kCrLfDotCr,    // <CR><LF>.<CR> not followed by LF
  kDotCrCrLf,    // a line start, ".", two or more CR, LF (old Postfix's end)
  kDotNul,       // a line start, ".", NUL
  kNulDot,       // a line start, NUL, "."
  kLineTooLong,  // text line over max_line (§4.5.3.1.6); the dot of
                 // transparency is not counted
};
inline constexpr std::size_t kDataEventKinds = 14;

// Stable snake_case name, e.g. "lf_dot_cr_lf".
std::string_view DataEventKindName(DataEventKind k);

struct DataEvent {
  DataEventKind kind;
  std::size_t offset;
  friend bool operator==(const DataEvent&, const DataEvent&) = default;
};

// How a line ended on the wire, for the line before and after the final dot.
enum class WireEnd : std::uint8_t {
  kCrLf,
  kLf,
  kCr,
  kCrsLf,  // two or more CR, then LF
};
std::string_view WireEndName(WireEnd e);

// The end-of-data sequence found: <before>.<after>, with the dot's offset.
// The body start counts as "before = kCrLf" (the CRLF of the DATA line).
struct DataEnd {
  WireEnd before = WireEnd::kCrLf;
  WireEnd after = WireEnd::kCrLf;
  std::size_t dot_offset = 0;
  bool standard() const { return before == WireEnd::kCrLf && after == WireEnd::kCrLf; }
  friend bool operator==(const DataEnd&, const DataEnd&) = default;
};

// Receives unstuffed body bytes in order. Non-owning and never stored past
// the Feed call it is given to; each piece is valid only during the call.
// A default-constructed sink discards.
class BodySink {
 public:
  BodySink() = default;
  BodySink(std::string* out)  // NOLINT: implicit by design
      : ctx_(out), fn_(out ? &AppendTo : nullptr) {}
  template <class F>
  requires(!std::is_same_v<std::remove_cvref_t<F>, BodySink> &&
           std::invocable<F&, std::string_view>) BodySink(F&& f)  // NOLINT: implicit by design
      : ctx_(const_cast<void*>(static_cast<const void*>(&f))),
        fn_([](void* ctx, std::string_view piece) {
          (*static_cast<std::remove_reference_t<F>*>(ctx))(piece);
        }) {}

  void operator()(std::string_view piece) const {
    if (fn_ != nullptr && !piece.empty()) fn_(ctx_, piece);
  }

 private:
  static void AppendTo(void* ctx, std::string_view piece) {
    static_cast<std::string*>(ctx)->append(piece);
  }
  void* ctx_ = nullptr;
  void (*fn_)(void*, std::string_view) = nullptr;
};

struct DataReaderOptions {
  DataEndMode mode = DataEndMode::kStrict;
  // Longest text line, CRLF included (Limits::text_line). Over it, a
  // kLineTooLong event is recorded once per line; reading goes on.
  std::size_t max_line = kMaxTextLine;
};

class DataReader {
 public:
  // Events kept in order of detection; later ones are only counted.
  static constexpr std::size_t kMaxStoredEvents = 64;

  explicit DataReader(DataReaderOptions opts = {});

  // Reads body bytes from `in`, passing the unstuffed body to `sink`, and
  // returns the bytes consumed: all of `in`, or fewer once the end of data
  // is found (the rest of `in` follows the end-of-data sequence). The body
  // includes the line end before the final dot (§4.1.1.4: the first CRLF of
  // <CRLF>.<CRLF> ends the last line) and never the dot line itself.
  // Returns 0 once done().
  std::size_t Feed(std::string_view in, BodySink sink = {});

  bool done() const { return state_ == State::kDone; }
  // Valid when done().
  const DataEnd& end() const { return end_; }

  std::span<const DataEvent> events() const { return {events_.data(), stored_events_}; }
  // Events not stored because the list was full.
  std::size_t dropped_events() const { return dropped_events_; }
  // Every event ever seen of kind k, stored or not.
  std::size_t count(DataEventKind k) const { return counts_[static_cast<std::size_t>(k)]; }
  // The first over-long line as an error (kDataLineTooLong), if any.
  std::optional<ParseError> line_error() const;

  // Bytes consumed since construction or Reset.
  std::size_t offset() const { return offset_; }
  const DataReaderOptions& options() const { return opts_; }

  // Ready for the next message body; the offset goes back to 0.
  void Reset();

 private:
  enum class State : std::uint8_t {
    kLineStart,  // at a raw line start (after CR, LF, CRLF or body start)
    kMid,        // inside a line
    kCr,         // after a body CR whose successor is unknown
    kDot,        // after "." at a raw line start (dot held back)
    kDotCr,      // after "." and CRs at a raw line start (all held back)
    kNul,        // after NUL at a raw line start
    kDone,
  };

  void AddEvent(DataEventKind k, std::size_t off);
  void CheckLineLength(std::size_t content_end);
  void LineEnd(WireEnd how, std::size_t term_off, std::size_t next_off);
  bool EndsData(std::size_t crs, bool lf) const;

  DataReaderOptions opts_;
  std::size_t max_content_;  // max_line minus the CRLF

  State state_ = State::kLineStart;
  WireEnd prefix_ = WireEnd::kCrLf;  // how the previous raw line ended
  bool mode_line_start_ = true;      // the current raw line start is a line start here
  bool line_reported_ = false;       // kLineTooLong already recorded for this line
  std::size_t offset_ = 0;
  std::size_t line_start_ = 0;  // absolute offset of the current line's content
  std::size_t cr_offset_ = 0;   // kCr: offset of that CR
  std::size_t dot_offset_ = 0;  // kDot/kDotCr
  std::size_t dot_crs_ = 0;     // kDotCr: CRs held after the dot
  DataEnd end_;

  std::array<DataEvent, kMaxStoredEvents> events_{};
  std::size_t stored_events_ = 0;
  std::size_t dropped_events_ = 0;
  std::array<std::size_t, kDataEventKinds> counts_{};
  std::size_t first_too_long_ = 0;
};

// Wire form of `body` for DATA: a CRLF is appended unless the body is empty
// or already ends with CRLF, every line that starts with "." after a CRLF
// (or at the start) gets one more ".", and "." CRLF ends it. Bare CR and LF
// are passed through unchanged (so the harness can send them on purpose).
// For any body with only CRLF line ends that is empty or ends with CRLF,
// DataReader(kStrict) reading DotStuff(body) yields body.
std::string DotStuff(std::string_view body);

}  // namespace smtp

#endif  // SMTP_PARSER_DATA_READER_H_
