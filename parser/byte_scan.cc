#include "parser/byte_scan.h"

#include <atomic>

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
  return SkipCrLfLinesWith<FindCrLfSse2>(p, end, room, max_content);
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
  return SkipCrLfLinesWith<FindCrLfAvx2>(p, end, room, max_content);
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
