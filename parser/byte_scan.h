// Byte scanning for the line-oriented readers (line_reader.h,
// data_reader.h, the reply reader): find the next octet of a small set
// (CR, LF; or CR, LF, NUL and octets >= 0x80) many octets at a time.
//
// Three implementations give the same results: a portable scalar loop, SSE2
// (16 octets per compare; always there on x86-64) and AVX2 (32 octets; used
// when the CPU has it). The readers look at octets one by one only where
// the scan stops, so every strictness rule keeps its exact offsets.
//
// The implementation is chosen once per process (the best the CPU has) and
// can be forced with SetScanImpl, so that tests and the differential fuzz
// target run the scalar and SIMD paths side by side. kScalar also turns off
// the grammar's SIMD fast paths (parser/internal/domain_fast.h).
#ifndef SMTP_PARSER_BYTE_SCAN_H_
#define SMTP_PARSER_BYTE_SCAN_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace smtp {

enum class ScanImpl : std::uint8_t { kScalar, kSse2, kAvx2 };
std::string_view ScanImplName(ScanImpl impl);  // "scalar", "sse2", "avx2"

// The implementation in use, and the best this CPU supports.
ScanImpl CurrentScanImpl();
ScanImpl BestScanImpl();

// Forces `impl` (clamped to BestScanImpl()) for the whole process; returns
// the one in effect. Not for concurrent use with running readers: tests and
// fuzz targets call it between inputs.
ScanImpl SetScanImpl(ScanImpl impl);

// The first CR or LF in [p, end), or `end`.
const char* FindCrLf(const char* p, const char* end);

// The first CR, LF, NUL or octet >= 0x80 in [p, end), or `end`: the octets
// a command line reader must look at (line ends, and what it observes).
const char* FindLineSpecial(const char* p, const char* end);

// The DATA reader's hot path: skips whole lines "content CRLF" from `p`,
// where the current line's content may take `room` more octets and each
// later line's `max_content`, and stops after the first CRLF whose next
// octet is "." or NUL, or that is the last octet in [p, end) (line starts
// the reader looks at), before a line with a bare CR or LF or too long a
// content, or at the last complete line. Returns the start of the line after
// the last CRLF skipped, or `p` when none was. The SIMD forms take 64
// octets at a time as bit masks (no scan per line); the scalar one is the
// reference they are tested against.
const char* SkipCrLfLines(const char* p, const char* end, std::size_t room,
                          std::size_t max_content);

// The first octet in [p, end) outside textstring (%d09 / %d32-126, RFC 5321
// §4.2: CR and LF among them), or `end`: where a strict reply text stops.
const char* FindNonText(const char* p, const char* end);

}  // namespace smtp

#endif  // SMTP_PARSER_BYTE_SCAN_H_
