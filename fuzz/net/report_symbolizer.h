// Symbolizing a sanitizer report after the fact. A spawned server built
// with AddressSanitizer symbolizes its own report by default: per death it
// forks llvm-symbolizer, whose start (and its closing of every descriptor
// up to RLIMIT_NOFILE first) costs 65-140 ms here, 0.5 s under load, while
// the session that killed it waits. With `symbolize=0` the report is
// written at once with frames as "(MODULE+0xOFFSET)", and the fuzzer
// resolves those here, once per distinct frame for the whole run: every
// later report with the same frames costs a map look-up.
#ifndef SMTP_FUZZ_NET_REPORT_SYMBOLIZER_H_
#define SMTP_FUZZ_NET_REPORT_SYMBOLIZER_H_

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace smtp::fuzz {

// An llvm-symbolizer to run: $ASAN_SYMBOLIZER_PATH if it is executable,
// else llvm-symbolizer on $PATH, else the newest /usr/bin/llvm-symbolizer-N
// or /usr/lib/llvm-N/bin/llvm-symbolizer. "" when there is none (a server
// then symbolizes its own reports, as before).
std::string FindLlvmSymbolizer();

// `base` ($ASAN_OPTIONS, may be empty) with symbolize=0 added, unless it
// already says symbolize=: the user's choice stands. Sets `*added`.
std::string AsanOptionsWithoutSymbolizing(std::string_view base, bool* added);

class ReportSymbolizer {
 public:
  explicit ReportSymbolizer(std::string symbolizer_path) : path_(std::move(symbolizer_path)) {}

  // `text` with each unsymbolized frame line of a sanitizer report
  //   "    #3 0x55d0c1a2b4df  (/path/server+0xe34df) (BuildId: ...)"
  // rewritten in the form of a symbolized frame,
  //   "    #3 0x55d0c1a2b4df in rcpt_to /src/server.c:94:5"
  // (an inlined frame gets a line of its own with the same number, where
  // the sanitizer would number it apart: the first frame, which names the
  // bucket, is the same). Frames the symbolizer cannot
  // name stay as they were; text without such frames is returned as is.
  // The symbolizer runs at most once per call, for the frames not seen
  // before, within `timeout`.
  std::string Symbolize(std::string text,
                        std::chrono::milliseconds timeout = std::chrono::milliseconds(10'000));

  // How many times the symbolizer process ran (for tests and the report).
  int runs() const { return runs_; }

 private:
  // One resolved frame: its (function, location) pairs, innermost first;
  // empty when unknown.
  using Frames = std::vector<std::pair<std::string, std::string>>;
  void Resolve(const std::string& module, const std::vector<std::string>& offsets,
               std::chrono::milliseconds timeout);

  std::string path_;
  std::map<std::pair<std::string, std::string>, Frames> cache_;  // (module, 0xoff)
  int runs_ = 0;
};

}  // namespace smtp::fuzz

#endif  // SMTP_FUZZ_NET_REPORT_SYMBOLIZER_H_
