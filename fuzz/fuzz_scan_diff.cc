// Fuzz target: the byte scans (parser/byte_scan.h), scalar against SIMD.
//
// The input is one byte stream. Oracle (parser/scan_diff_test_util.h): the
// scan functions at every start offset, and the DATA, line and reply readers
// in every mode checked, fed whole and in pieces, give the same results
// under every ScanImpl the CPU has as under the scalar one.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "parser/scan_diff_test_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 4096) return 0;  // the oracle is quadratic in the input
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::string diff = smtp::testing::ScanDiff(in);
  if (!diff.empty()) {
    std::fprintf(stderr, "fuzz_scan_diff: %s\n", diff.c_str());
    std::abort();
  }
  return 0;
}
