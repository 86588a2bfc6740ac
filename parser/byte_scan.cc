#include "parser/byte_scan.h"

#include "parser/internal/domain_fast.h"

#include <atomic>
#include <cstdint>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define SMTP_SCAN_X86 1
#endif

namespace smtp {
namespace {

// --- portable -----------------------------------------------------------------

const char* FindCrLfScalar(const char* p, const char* end) {
  for (; p < end; ++p) {
    if (*p == '\r' || *p == '\n') return p;
  }
  return end;
}

bool IsLineSpecial(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u == '\r' || u == '\n' || u == 0 || u >= 0x80;
}

const char* FindLineSpecialScalar(const char* p, const char* end) {
  for (; p < end; ++p) {
    if (IsLineSpecial(*p)) return p;
  }
  return end;
}

bool IsNonText(char c) {
  const auto u = static_cast<unsigned char>(c);
  return !(u == 9 || (u >= 32 && u <= 126));
}

const char* FindNonTextScalar(const char* p, const char* end) {
  for (; p < end; ++p) {
    if (IsNonText(*p)) return p;
  }
  return end;
}

// One body, three instruction sets: `find` is the CR/LF scan of one.
template <const char* (*find)(const char*, const char*)>
inline const char* SkipCrLfLinesWith(const char* p, const char* end, std::size_t room,
                                     std::size_t max_content) {
  const char* last = p;
  for (;;) {
    const char* hit = find(p, end);
    if (end - hit < 2 || hit[0] != '\r' || hit[1] != '\n') return last;
    if (static_cast<std::size_t>(hit - p) > room) return last;  // too long: the reader reports it
    last = hit + 2;
    if (last == end || *last == '.' || *last == '\0') return last;
    p = last;
    room = max_content;
  }
}

// The block form of SkipCrLfLinesWith, for SIMD: after the first line (the
// per-line loop, as it may have only `room`), 64 octets at a time become
// bit masks of CR, LF and "." / NUL, and a block's plain CRLF lines are
// passed over with a few bit operations instead of a scan per line:
//   bad  = (CR << 1) ^ LF   a CR whose next octet is not LF, or an LF with
//                           no CR before it (one bit past a bare CR, on a
//                           bare LF)
//   stop = (LF << 1) & DOT  a line starting with "." or NUL
// (shifts carry the top bit into the next block). Everything before the
// first bad or stop bit is whole CRLF lines; of those only a line that began
// in an earlier block can be over `max_content` (a block's other lines are
// shorter than 64 octets), so each block checks just its first LF. The
// result is the start of the line holding the first bad or stop bit, i.e.
// exactly where the per-line loop stops. Fewer than 64 octets left: the
// per-line loop again. Each instruction set's function runs the loop with
// its own BlockMasks (an intrinsic cannot be inlined into a template
// compiled for the baseline target).
struct LineBlocks {
  static constexpr std::size_t kMinContent = 64;  // below it, the per-line loop

  const char* line;            // the current line's start: all before it is skipped
  std::uint64_t cr_carry = 0;  // the octet before the block is a CR / an LF
  std::uint64_t lf_carry = 0;

  // One block at `b`; true when the skip ends at `line`.
  bool Step(const char* b, std::uint64_t cr, std::uint64_t lf, std::uint64_t dot,
            std::size_t max_content) {
    const std::uint64_t stop = (((cr << 1) | cr_carry) ^ lf) | (((lf << 1) | lf_carry) & dot);
    cr_carry = cr >> 63;
    lf_carry = lf >> 63;
    // LFs before the first stop bit (all of them when there is none).
    const std::uint64_t ends = stop == 0 ? lf : lf & ((stop & (~stop + 1)) - 1);
    if (ends != 0) {
      const char* first_cr = b + __builtin_ctzll(ends) - 1;
      if (static_cast<std::size_t>(first_cr - line) > max_content) return true;
      line = b + (63 - __builtin_clzll(ends)) + 1;
    }
    return stop != 0;
  }

  // Fewer than 64 octets left at `b`.
  template <const char* (*find)(const char*, const char*)>
  const char* Finish(const char* b, const char* end, std::size_t max_content) const {
    // The last block ended with an LF: its next octet is a line start.
    if (lf_carry != 0 && (b == end || *b == '.' || *b == '\0')) return b;
    return SkipCrLfLinesWith<find>(line, end, max_content, max_content);
  }
};

// The first line of SkipCrLfLines, with `room`: the start of the next line,
// or `p`.
template <const char* (*find)(const char*, const char*)>
inline const char* SkipFirstLine(const char* p, const char* end, std::size_t room) {
  const char* hit = find(p, end);
  if (end - hit < 2 || hit[0] != '\r' || hit[1] != '\n') return p;
  if (static_cast<std::size_t>(hit - p) > room) return p;
  return hit + 2;
}

// Where the block loop need not start: nothing skipped, a line start the
// reader must see, or lines too short for it.
inline bool BlocksDone(const char* p, const char* line, const char* end) {
  return line == p || line == end || *line == '.' || *line == '\0';
}

const char* SkipCrLfLinesScalar(const char* p, const char* end, std::size_t room,
                                std::size_t max_content) {
  return SkipCrLfLinesWith<FindCrLfScalar>(p, end, room, max_content);
}

#if SMTP_SCAN_X86

// --- SSE2: 16 octets per step ---------------------------------------------------

__attribute__((target("sse2"))) const char* FindCrLfSse2(const char* p, const char* end) {
  const __m128i cr = _mm_set1_epi8('\r');
  const __m128i lf = _mm_set1_epi8('\n');
  for (; end - p >= 16; p += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const int m = _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, lf)));
    if (m != 0) return p + __builtin_ctz(static_cast<unsigned>(m));
  }
  return FindCrLfScalar(p, end);
}

// CR, LF, NUL by compare; octets >= 0x80 are the sign bits movemask reads.
__attribute__((target("sse2"))) const char* FindLineSpecialSse2(const char* p, const char* end) {
  const __m128i cr = _mm_set1_epi8('\r');
  const __m128i lf = _mm_set1_epi8('\n');
  const __m128i zero = _mm_setzero_si128();
  for (; end - p >= 16; p += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, lf)),
                                     _mm_or_si128(_mm_cmpeq_epi8(v, zero), v));
    const int m = _mm_movemask_epi8(hit);
    if (m != 0) {
      // The OR with v sets a sign bit for octets >= 0x80; an ordinary octet
      // has none, and a compare hit is 0xFF: the first set bit is exact.
      return p + __builtin_ctz(static_cast<unsigned>(m));
    }
  }
  return FindLineSpecialScalar(p, end);
}

__attribute__((target("sse2"))) const char* SkipCrLfLinesSse2(const char* p, const char* end,
                                                              std::size_t room,
                                                              std::size_t max_content) {
  const char* line = SkipFirstLine<FindCrLfSse2>(p, end, room);
  if (BlocksDone(p, line, end)) return line;
  if (max_content < LineBlocks::kMinContent) {
    return SkipCrLfLinesWith<FindCrLfSse2>(line, end, max_content, max_content);
  }
  const __m128i vcr = _mm_set1_epi8('\r');
  const __m128i vlf = _mm_set1_epi8('\n');
  const __m128i vdot = _mm_set1_epi8('.');
  const __m128i zero = _mm_setzero_si128();
  LineBlocks blocks{line};
  const char* b = line;
  for (; end - b >= 64; b += 64) {
    std::uint64_t cr = 0;
    std::uint64_t lf = 0;
    std::uint64_t dot = 0;
    for (int i = 0; i < 4; ++i) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + 16 * i));
      const int shift = 16 * i;
      cr |= std::uint64_t{static_cast<std::uint16_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, vcr)))}
            << shift;
      lf |= std::uint64_t{static_cast<std::uint16_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, vlf)))}
            << shift;
      dot |= std::uint64_t{static_cast<std::uint16_t>(
                 _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, vdot), _mm_cmpeq_epi8(v, zero))))}
             << shift;
    }
    if (blocks.Step(b, cr, lf, dot, max_content)) return blocks.line;
  }
  return blocks.Finish<FindCrLfSse2>(b, end, max_content);
}

// Signed compares: octets >= 0x80 are negative, so "< 32" takes them too.
__attribute__((target("sse2"))) const char* FindNonTextSse2(const char* p, const char* end) {
  const __m128i space = _mm_set1_epi8(32);
  const __m128i tab = _mm_set1_epi8(9);
  const __m128i del = _mm_set1_epi8(127);
  for (; end - p >= 16; p += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i low = _mm_andnot_si128(_mm_cmpeq_epi8(v, tab), _mm_cmplt_epi8(v, space));
    const int m = _mm_movemask_epi8(_mm_or_si128(low, _mm_cmpeq_epi8(v, del)));
    if (m != 0) return p + __builtin_ctz(static_cast<unsigned>(m));
  }
  return FindNonTextScalar(p, end);
}

// --- AVX2: 32 octets per step -------------------------------------------------------

__attribute__((target("avx2"))) const char* FindCrLfAvx2(const char* p, const char* end) {
  const __m256i cr = _mm256_set1_epi8('\r');
  const __m256i lf = _mm256_set1_epi8('\n');
  for (; end - p >= 32; p += 32) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    const unsigned m = static_cast<unsigned>(
        _mm256_movemask_epi8(_mm256_or_si256(_mm256_cmpeq_epi8(v, cr), _mm256_cmpeq_epi8(v, lf))));
    if (m != 0) return p + __builtin_ctz(m);
  }
  return FindCrLfSse2(p, end);
}

__attribute__((target("avx2"))) const char* SkipCrLfLinesAvx2(const char* p, const char* end,
                                                              std::size_t room,
                                                              std::size_t max_content) {
  const char* line = SkipFirstLine<FindCrLfAvx2>(p, end, room);
  if (BlocksDone(p, line, end)) return line;
  if (max_content < LineBlocks::kMinContent) {
    return SkipCrLfLinesWith<FindCrLfAvx2>(line, end, max_content, max_content);
  }
  const __m256i vcr = _mm256_set1_epi8('\r');
  const __m256i vlf = _mm256_set1_epi8('\n');
  const __m256i vdot = _mm256_set1_epi8('.');
  const __m256i zero = _mm256_setzero_si256();
  LineBlocks blocks{line};
  const char* b = line;
  for (; end - b >= 64; b += 64) {
    const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b));
    const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 32));
#define SMTP_BITS64(lo_mask, hi_mask)                                         \
  (std::uint64_t{static_cast<std::uint32_t>(_mm256_movemask_epi8(lo_mask))} | \
   std::uint64_t{static_cast<std::uint32_t>(_mm256_movemask_epi8(hi_mask))} << 32)
    const std::uint64_t cr = SMTP_BITS64(_mm256_cmpeq_epi8(lo, vcr), _mm256_cmpeq_epi8(hi, vcr));
    const std::uint64_t lf = SMTP_BITS64(_mm256_cmpeq_epi8(lo, vlf), _mm256_cmpeq_epi8(hi, vlf));
    const std::uint64_t dot =
        SMTP_BITS64(_mm256_or_si256(_mm256_cmpeq_epi8(lo, vdot), _mm256_cmpeq_epi8(lo, zero)),
                    _mm256_or_si256(_mm256_cmpeq_epi8(hi, vdot), _mm256_cmpeq_epi8(hi, zero)));
#undef SMTP_BITS64
    if (blocks.Step(b, cr, lf, dot, max_content)) return blocks.line;
  }
  return blocks.Finish<FindCrLfAvx2>(b, end, max_content);
}

__attribute__((target("avx2"))) const char* FindLineSpecialAvx2(const char* p, const char* end) {
  const __m256i cr = _mm256_set1_epi8('\r');
  const __m256i lf = _mm256_set1_epi8('\n');
  const __m256i zero = _mm256_setzero_si256();
  for (; end - p >= 32; p += 32) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    const __m256i hit =
        _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(v, cr), _mm256_cmpeq_epi8(v, lf)),
                        _mm256_or_si256(_mm256_cmpeq_epi8(v, zero), v));
    const unsigned m = static_cast<unsigned>(_mm256_movemask_epi8(hit));
    if (m != 0) return p + __builtin_ctz(m);
  }
  return FindLineSpecialSse2(p, end);
}

__attribute__((target("avx2"))) const char* FindNonTextAvx2(const char* p, const char* end) {
  const __m256i space = _mm256_set1_epi8(32);
  const __m256i tab = _mm256_set1_epi8(9);
  const __m256i del = _mm256_set1_epi8(127);
  for (; end - p >= 32; p += 32) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    // v < 32 as space > v (signed).
    const __m256i low = _mm256_andnot_si256(_mm256_cmpeq_epi8(v, tab), _mm256_cmpgt_epi8(space, v));
    const unsigned m = static_cast<unsigned>(
        _mm256_movemask_epi8(_mm256_or_si256(low, _mm256_cmpeq_epi8(v, del))));
    if (m != 0) return p + __builtin_ctz(m);
  }
  return FindNonTextSse2(p, end);
}

#endif  // SMTP_SCAN_X86

ScanImpl Detect() {
#if SMTP_SCAN_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) return ScanImpl::kAvx2;
  return ScanImpl::kSse2;
#else
  return ScanImpl::kScalar;
#endif
}

const ScanImpl kBest = Detect();
std::atomic<ScanImpl> g_impl{kBest};

}  // namespace

std::atomic<bool> internal::g_simd_scans{kBest != ScanImpl::kScalar};

std::string_view ScanImplName(ScanImpl impl) {
  switch (impl) {
    case ScanImpl::kScalar:
      return "scalar";
    case ScanImpl::kSse2:
      return "sse2";
    case ScanImpl::kAvx2:
      return "avx2";
  }
  return "scalar";
}

ScanImpl CurrentScanImpl() { return g_impl.load(std::memory_order_relaxed); }
ScanImpl BestScanImpl() { return kBest; }

ScanImpl SetScanImpl(ScanImpl impl) {
  if (static_cast<int>(impl) > static_cast<int>(kBest)) impl = kBest;
  g_impl.store(impl, std::memory_order_relaxed);
  internal::g_simd_scans.store(impl != ScanImpl::kScalar, std::memory_order_relaxed);
  return impl;
}

namespace {

// The functions of each implementation, indexed by ScanImpl.
struct ScanFns {
  const char* (*find_crlf)(const char*, const char*);
  const char* (*find_line_special)(const char*, const char*);
  const char* (*find_non_text)(const char*, const char*);
  const char* (*skip_crlf_lines)(const char*, const char*, std::size_t, std::size_t);
};

constexpr ScanFns kFns[] = {
    {FindCrLfScalar, FindLineSpecialScalar, FindNonTextScalar, SkipCrLfLinesScalar},
#if SMTP_SCAN_X86
    {FindCrLfSse2, FindLineSpecialSse2, FindNonTextSse2, SkipCrLfLinesSse2},
    {FindCrLfAvx2, FindLineSpecialAvx2, FindNonTextAvx2, SkipCrLfLinesAvx2},
#endif
};

const ScanFns& Fns() { return kFns[static_cast<int>(g_impl.load(std::memory_order_relaxed))]; }

}  // namespace

const char* FindCrLf(const char* p, const char* end) { return Fns().find_crlf(p, end); }

const char* FindLineSpecial(const char* p, const char* end) {
  return Fns().find_line_special(p, end);
}

const char* FindNonText(const char* p, const char* end) { return Fns().find_non_text(p, end); }

const char* SkipCrLfLines(const char* p, const char* end, std::size_t room,
                          std::size_t max_content) {
  return Fns().skip_crlf_lines(p, end, room, max_content);
}

}  // namespace smtp
