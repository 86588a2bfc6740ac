// The usual paths of MAIL and RCPT without the general path parser: the
// common "<" Dot-string "@" Domain ">" found and validated in one pass of
// 16-octet compares (SSE2, always there on x86-64): class masks of the whole
// path, then "@", ">", the local-part's dots and the Domain's labels by bit
// operations, instead of an octet loop for the local-part, a block loop for
// the Domain and the steps between; and "<>" and "<Postmaster>" by word
// compares. Internal: the command parser's MAIL / RCPT step (command.cc)
// tries FastPathInto first and calls ParsePathInto whenever it declines, so
// that every error, leniency and UTF-8 rule keeps the scalar code and its
// exact offsets. SetScanImpl(kScalar) turns it off (SimdScans(),
// domain_fast.h); GrammarDiff (scan_diff_test_util.h) compares the two.
#ifndef SMTP_PARSER_INTERNAL_PATH_FAST_H_
#define SMTP_PARSER_INTERNAL_PATH_FAST_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "parser/internal/command_chars.h"
#include "parser/internal/domain_fast.h"
#include "parser/internal/path_chars.h"
#include "parser/limits.h"
#include "parser/path.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace smtp::internal {

// Where FastBracketedMailbox found the path's "@" and ">".
struct FastMailbox {
  std::size_t at = 0;  // offset of "@"
  std::size_t gt = 0;  // offset of ">"
  DomainKind kind = DomainKind::kName;
};

#if defined(__SSE2__)
// A byte mask of the 16-octet block at offset `at` as bits at..at+15 of the
// 64-octet window both mailbox fast paths look at.
[[gnu::always_inline]] inline std::uint64_t BlockBits(__m128i m, std::size_t at) {
  return static_cast<std::uint64_t>(static_cast<std::uint32_t>(_mm_movemask_epi8(m))) << at;
}

// The window's octets that the blocks through the one at `at` have seen.
[[gnu::always_inline]] inline std::uint64_t SeenThrough(std::size_t at) {
  return at + 16 == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << (at + 16)) - 1;
}

// The masks of the window that both mailbox fast paths keep: the class
// Let-dig / "-" / ".", and "." and "-" apart (for the label checks).
struct LdhMasks {
  std::uint64_t cls = 0;
  std::uint64_t dots = 0;
  std::uint64_t hyphens = 0;

  [[gnu::always_inline]] void Add(__m128i v, std::size_t at) {
    const __m128i hyphen = _mm_cmpeq_epi8(v, _mm_set1_epi8('-'));
    const __m128i dot = _mm_cmpeq_epi8(v, _mm_set1_epi8('.'));
    cls |= BlockBits(
        _mm_or_si128(_mm_or_si128(SseAlpha(v), SseDigit(v)), _mm_or_si128(hyphen, dot)), at);
    dots |= BlockBits(dot, at);
    hyphens |= BlockBits(hyphen, at);
  }
};
#endif

// Checks the Domain in[at + 1, gt) of a path whose "@" is at `at` and ">"
// at `gt`, from the path's "." and "-" masks (its octets are known to be
// Let-dig / "-" / "."): 1..domain_limit octets, no "." or "-" first or last
// in a label.
[[gnu::always_inline]] inline bool FastDomainLabels(std::size_t at, std::size_t gt,
                                                    std::uint64_t dots, std::uint64_t hyphens,
                                                    std::size_t domain_limit) {
  const std::uint64_t domain = ((std::uint64_t{1} << gt) - 1) & ~((std::uint64_t{2} << at) - 1);
  const std::uint64_t domain_dots = dots & domain;
  const std::uint64_t starts = (std::uint64_t{2} << at) | (domain_dots << 1);
  const std::uint64_t ends = (domain_dots >> 1) | (std::uint64_t{1} << (gt - 1));
  return gt != at + 1 && gt - at - 1 <= domain_limit &&
         ((domain_dots | (hyphens & domain)) & (starts | ends)) == 0;
}

// True when `in` begins with "<" Local-part "@" Domain ">" where
// - the Local-part is a Dot-string of ALPHA / DIGIT / "-" (a subset of
//   atext, so the scalar Dot-string scan stops at the same "@"), with no
//   empty atom, at most `local_limit` octets;
// - the Domain is labels of Let-dig / "-" with no empty label and no "-" at
//   a label's edge, or an IPv4 address-literal, at most `domain_limit`
//   octets (the literal with its brackets);
// - the ">" is within the first 64 octets and the path (brackets included)
//   at most `path_limit` octets.
// Then the scalar parser accepts the same prefix, with no leniency fired, no
// UTF-8, and the same fields. Otherwise false, and the caller parses octet by
// octet. Reads only within `in`; declines when in.size() < 16 or in[0] is
// not "<".
//
// One class mask (Let-dig / "-" / ".") and the "." and "-" masks of each
// 16-octet block, until two octets outside the class have been seen after
// the "<": they must be the "@" and the ">". A short last block is the 16
// octets that end `in`, its masks shifted into place: the octets it shares
// with the block before set the same bits again.
[[gnu::always_inline]] inline bool FastBracketedMailbox(std::string_view in,
                                                        std::size_t local_limit,
                                                        std::size_t domain_limit,
                                                        std::size_t path_limit, FastMailbox* out) {
#if defined(__SSE2__)
  const std::size_t n = in.size();
  // "<" and a Let-dig: not "<>", a Quoted-string or a source route, which
  // cost the block below for nothing.
  if (n < 16 || in[0] != '<' || !Is(in[1], kLetDigBit)) return false;
  LdhMasks m;
  std::uint64_t stops = 0;
  for (std::size_t k = 0;; k += 16) {
    const std::size_t at = k + 16 <= n ? k : n - 16;
    m.Add(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in.data() + at)), at);
    stops = ~m.cls & SeenThrough(at) & ~std::uint64_t{1};
    if ((stops & (stops - 1)) != 0) break;  // two octets outside the class
    if (at + 16 >= n || k == 48) return false;
  }
  // The first two octets outside the class after "<": "@" and then ">" or
  // the "[" of an address-literal.
  const std::size_t at = static_cast<std::size_t>(__builtin_ctzll(stops));
  std::size_t gt = static_cast<std::size_t>(__builtin_ctzll(stops & (stops - 1)));
  // Local-part in[1, at): 1..local_limit octets, no "." first, last or next
  // to another ".".
  const std::uint64_t local = ((std::uint64_t{1} << at) - 1) & ~std::uint64_t{1};
  const std::uint64_t local_dots = m.dots & local;
  if (in[at] != '@' || at < 2 || at - 1 > local_limit ||
      (local_dots & (std::uint64_t{2} | (std::uint64_t{1} << (at - 1)) | (local_dots >> 1))) != 0) {
    return false;
  }
  if (in[gt] == '>') {
    if (!FastDomainLabels(at, gt, m.dots, m.hyphens, domain_limit)) return false;
    out->kind = DomainKind::kName;
  } else if (gt == at + 1 && in[gt] == '[') {
    // "[" IPv4-address-literal "]" (§4.1.3: Snum = 1*3DIGIT, 0-255): the
    // scalar parse takes the first "]", which is the one after the fourth
    // Snum here, and accepts the same.
    std::size_t p = gt + 1;
    for (int k = 0; k < 4; ++k) {
      if (k > 0) {
        if (p == n || in[p] != '.') return false;
        ++p;
      }
      unsigned value = 0;
      const std::size_t start = p;
      while (p < n && p - start < 4 && in[p] >= '0' && in[p] <= '9') {
        value = value * 10 + static_cast<unsigned>(in[p] - '0');
        ++p;
      }
      if (p == start || p - start > 3 || value > 255) return false;
    }
    if (p + 1 >= n || in[p] != ']' || in[p + 1] != '>' || p + 1 - (at + 1) > domain_limit) {
      return false;
    }
    gt = p + 1;
    out->kind = DomainKind::kIpv4Literal;
  } else {
    return false;
  }
  if (gt + 1 > path_limit) return false;
  out->at = at;
  out->gt = gt;
  return true;
#else
  (void)in;
  (void)local_limit;
  (void)domain_limit;
  (void)path_limit;
  (void)out;
  return false;
#endif
}

// As FastBracketedMailbox for "<" Quoted-string "@" Domain ">" where the
// Quoted-string is DQUOTE *qtextSMTP DQUOTE of ASCII (no quoted-pair, no
// UTF-8), at most `local_limit` octets with its quotes, and the Domain as
// there (no address-literal). Then the scalar parser accepts the same
// prefix with the same fields (quoted_local_part set). Needs in.size() >= 16,
// in[0] == '<' and in[1] == '"'.
[[gnu::always_inline]] inline bool FastQuotedMailbox(std::string_view in, std::size_t local_limit,
                                                     std::size_t domain_limit,
                                                     std::size_t path_limit, FastMailbox* out) {
#if defined(__SSE2__)
  const std::size_t n = in.size();
  LdhMasks m;
  std::uint64_t quotes = 0;
  std::uint64_t qtext = 0;  // %d32-126 except "\\" (DQUOTE is in `quotes`)
  std::size_t close = 0;
  std::uint64_t stops = 0;
  for (std::size_t k = 0;; k += 16) {
    const std::size_t at = k + 16 <= n ? k : n - 16;
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in.data() + at));
    m.Add(v, at);
    const __m128i printable = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8(0x1f)),
                                            _mm_cmplt_epi8(v, _mm_set1_epi8(0x7f)));
    quotes |= BlockBits(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), at);
    qtext |= BlockBits(_mm_andnot_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\\')), printable), at);
    const std::uint64_t seen = SeenThrough(at);
    const std::uint64_t later = quotes & seen & ~std::uint64_t{3};  // DQUOTEs after the first
    if (later != 0) {
      close = static_cast<std::size_t>(__builtin_ctzll(later));
      // Octets outside the class after the "@" that should follow; none when
      // the "@" and ">" would not fit in the 64 octets (and the shift stays
      // under 64): then this was the last block.
      const std::uint64_t after_at = close < 62 ? ~((std::uint64_t{2} << (close + 1)) - 1) : 0;
      stops = ~m.cls & seen & after_at;
      if (stops != 0) break;
    }
    if (at + 16 >= n || k == 48) return false;
  }
  const std::size_t at = close + 1;
  const std::size_t gt = static_cast<std::size_t>(__builtin_ctzll(stops));
  // qtextSMTP between the quotes; "@" after them; the quotes count in the
  // local-part's limit.
  const std::uint64_t inside = ((std::uint64_t{1} << close) - 1) & ~std::uint64_t{3};
  if ((inside & ~qtext) != 0 || close > local_limit || in[at] != '@' || in[gt] != '>' ||
      !FastDomainLabels(at, gt, m.dots, m.hyphens, domain_limit) || gt + 1 > path_limit) {
    return false;
  }
  out->at = at;
  out->gt = gt;
  out->kind = DomainKind::kName;
  return true;
#else
  (void)in;
  (void)local_limit;
  (void)domain_limit;
  (void)path_limit;
  (void)out;
  return false;
#endif
}

// ParsePathInto(in, ..., forward, out, &len) for the paths above, where it
// would succeed: "<>" (Reverse-path), "<Postmaster>" in any case
// (Forward-path), and what FastBracketedMailbox accepts. Fills the fields of
// the cleared `*out` as ParsePathInto does and returns the path's length
// (through ">"); 0 when it declines (nothing written).
[[gnu::always_inline]] inline std::size_t FastPathInto(std::string_view in, bool forward,
                                                       const Limits& limits, Path* out) {
  const std::size_t n = in.size();
  // Views built from in.data(): every offset is inside `in`, and substr's
  // range check is a call GCC leaves out of line here.
  const auto view = [&in](std::size_t pos, std::size_t len) {
    return std::string_view(in.data() + pos, len);
  };
  if (n >= 2 && in[0] == '<' && in[1] == '>') {  // ParsePathInto: kEmptyPath when forward
    if (forward || limits.path < 2) return 0;
    out->raw = view(0, 2);
    out->is_null = true;
    return 2;
  }
  // "Postmaster" as three folded words (exact: all letters) and ">".
  if (forward && n >= 12 && in[0] == '<' && LoadFolded4(in.data() + 1) == Tag4("post") &&
      LoadFolded4(in.data() + 5) == Tag4("mast") && LoadFolded4(in.data() + 7) == Tag4("ster") &&
      in[11] == '>') {
    if (limits.path < 12) return 0;
    out->raw = view(0, 12);
    out->is_postmaster = true;
    out->local_part = view(1, 10);
    return 12;
  }
  FastMailbox f;
  if (n >= 16 && in[0] == '<' && in[1] == '"') {
    if (!FastQuotedMailbox(in, limits.local_part, limits.domain, limits.path, &f)) return 0;
    out->quoted_local_part = true;
  } else if (!FastBracketedMailbox(in, limits.local_part, limits.domain, limits.path, &f)) {
    return 0;
  }
  out->raw = view(0, f.gt + 1);
  out->local_part = view(1, f.at - 1);
  out->domain = view(f.at + 1, f.gt - f.at - 1);
  out->domain_kind = f.kind;
  return f.gt + 1;
}

}  // namespace smtp::internal

#endif  // SMTP_PARSER_INTERNAL_PATH_FAST_H_
