// write_fuzz_report OUT_DIR: WriteFuzzReport (reports/fuzz_report.h) from the
// command line, for the browser test, which renders the fixture fuzz run
// without running a fuzzer. Exit 0, or 2 with the error on stderr.
#include <iostream>

#include "reports/fuzz_report.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: write_fuzz_report OUT_DIR (holding fuzz.json)\n";
    return 2;
  }
  const absl::Status st = smtp::reports::WriteFuzzReport(argv[1]);
  if (!st.ok()) {
    std::cerr << "write_fuzz_report: " << st.message() << "\n";
    return 2;
  }
  return 0;
}
