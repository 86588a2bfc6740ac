// The common Domain found and validated with 16-octet compares (SSE2, always
// there on x86-64) instead of a per-octet class scan per label. Internal:
// the path parser (path.cc) tries it first and parses octet by octet
// whenever it declines, so that every error, leniency and UTF-8 rule keeps
// the scalar code and its exact offsets.
#ifndef SMTP_PARSER_INTERNAL_DOMAIN_FAST_H_
#define SMTP_PARSER_INTERNAL_DOMAIN_FAST_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace smtp::internal {

// True while the SIMD scans are in use (CurrentScanImpl() is not kScalar,
// byte_scan.h): SetScanImpl(ScanImpl::kScalar) turns the fast paths of the
// parsers off too, so that tests and fuzz targets compare the two.
extern std::atomic<bool> g_simd_scans;
inline bool SimdScans() { return g_simd_scans.load(std::memory_order_relaxed); }

#if defined(__SSE2__)
// The ALPHA and DIGIT octets of `v` (RFC 5234) as byte masks: ALPHA is
// (v | 0x20) in "a"-"z", DIGIT is v in "0"-"9", each by one signed compare
// of the octet moved to the bottom of the signed range (8-bit octets fall
// outside both). Shared by the Domain and path fast paths.
[[gnu::always_inline]] inline __m128i SseAlpha(__m128i v) {
  const __m128i lower = _mm_or_si128(v, _mm_set1_epi8(0x20));
  return _mm_cmplt_epi8(_mm_add_epi8(lower, _mm_set1_epi8(static_cast<char>(0x80 - 'a'))),
                        _mm_set1_epi8(-128 + 26));
}
[[gnu::always_inline]] inline __m128i SseDigit(__m128i v) {
  return _mm_cmplt_epi8(_mm_add_epi8(v, _mm_set1_epi8(static_cast<char>(0x80 - '0'))),
                        _mm_set1_epi8(-128 + 10));
}
#endif

// When in[from, end) is a Domain (RFC 5321 §4.1.2: sub-domain *("."
// sub-domain), sub-domain = Let-dig [Ldh-str]) of ASCII labels that the
// scalar scan accepts with no leniency, at most `limit` and fewer than 64
// octets long, and in[end] (if any) is an octet at which that scan stops
// with nothing more to do (not ALPHA, DIGIT, "-", ".", "_" or >= 0x80):
// returns `end` (> from). Otherwise 0, and the caller scans octet by octet.
// Reads only within `in`; needs in.size() >= 16.
[[gnu::always_inline]] inline std::size_t FastDomainEnd(std::string_view in, std::size_t from,
                                                        std::size_t limit) {
#if defined(__SSE2__)
  const std::size_t n = in.size();
  if (n < 16 || from >= n) return 0;
  std::uint64_t dots = 0;
  std::uint64_t hyphens = 0;
  for (std::size_t k = 0; k < 64; k += 16) {
    const std::size_t at = from + k;
    // The last block may be short: the 16 octets that end `in`, shifted so
    // that bit 0 is in[at]; bits from n - at on are the end (a stop).
    const std::size_t avail = n - at;
    const std::size_t shift = avail >= 16 ? 0 : 16 - avail;
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in.data() + at - shift));
    const __m128i alpha = SseAlpha(v);
    const __m128i digit = SseDigit(v);
    const __m128i hyphen = _mm_cmpeq_epi8(v, _mm_set1_epi8('-'));
    const __m128i dot = _mm_cmpeq_epi8(v, _mm_set1_epi8('.'));
    const __m128i under = _mm_cmpeq_epi8(v, _mm_set1_epi8('_'));
    const auto mask = [shift](__m128i m) {
      return static_cast<std::uint32_t>(_mm_movemask_epi8(m)) >> shift;
    };
    const std::uint32_t go =
        mask(_mm_or_si128(_mm_or_si128(alpha, digit), _mm_or_si128(hyphen, dot)));
    const std::uint32_t hyphen_bits = mask(hyphen);
    dots |= static_cast<std::uint64_t>(mask(dot)) << k;
    hyphens |= static_cast<std::uint64_t>(hyphen_bits) << k;
    const std::uint32_t stop = ~go & 0xffffu;  // includes the end of `in`
    if (stop == 0) continue;
    const unsigned s = static_cast<unsigned>(__builtin_ctz(stop));
    // "_" and 8-bit octets continue the scalar scan (a leniency, UTF-8).
    if (s < avail && ((mask(_mm_or_si128(under, v)) >> s) & 1u) != 0) return 0;
    const std::size_t len = k + s;
    if (len == 0 || len >= 64 || len > limit) return 0;
    const std::uint64_t in_domain = (std::uint64_t{1} << len) - 1;
    dots &= in_domain;
    hyphens &= in_domain;
    const std::uint64_t starts = (1u | (dots << 1)) & in_domain;  // each label's first octet
    const std::uint64_t ends = (dots >> 1) | (std::uint64_t{1} << (len - 1));  // and last
    // An empty label (a "." where a label starts, or at the end) or a label
    // that starts or ends with "-".
    if ((dots & (starts | ends)) != 0 || (hyphens & (starts | ends)) != 0) return 0;
    return from + len;
  }
#else
  (void)in;
  (void)from;
  (void)limit;
#endif
  return 0;
}

}  // namespace smtp::internal

#endif  // SMTP_PARSER_INTERNAL_DOMAIN_FAST_H_
