#include "fuzz/net/report_symbolizer.h"

#include <dlfcn.h>
#include <link.h>

#include <cstdio>
#include <string>

#include "gtest/gtest.h"

// A function of this binary for the symbolizer to name (C linkage: no
// demangling question).
extern "C" __attribute__((noinline)) int SmtpSymbolizeMe(int x) { return x * 3 + 1; }

namespace smtp::fuzz {
namespace {

TEST(AsanOptionsTest, AddsSymbolizeZeroUnlessTheUserChose) {
  bool added = false;
  EXPECT_EQ(AsanOptionsWithoutSymbolizing("", &added), "symbolize=0");
  EXPECT_TRUE(added);
  EXPECT_EQ(AsanOptionsWithoutSymbolizing("detect_leaks=0", &added), "detect_leaks=0:symbolize=0");
  EXPECT_TRUE(added);
  EXPECT_EQ(AsanOptionsWithoutSymbolizing("symbolize=1", &added), "symbolize=1");
  EXPECT_FALSE(added);
  EXPECT_EQ(AsanOptionsWithoutSymbolizing("abort_on_error=1:symbolize=1", &added),
            "abort_on_error=1:symbolize=1");
  EXPECT_FALSE(added);
  // Another flag that ends in "symbolize=" is not the user's choice.
  EXPECT_EQ(AsanOptionsWithoutSymbolizing("x_symbolize=1", &added), "x_symbolize=1:symbolize=0");
  EXPECT_TRUE(added);
}

// This binary's path and the module offset of SmtpSymbolizeMe, as a
// sanitizer prints them with symbolize=0.
std::string RawFrame(int n) {
  Dl_info info{};
  EXPECT_NE(dladdr(reinterpret_cast<void*>(&SmtpSymbolizeMe), &info), 0);
  const auto off = reinterpret_cast<std::uintptr_t>(&SmtpSymbolizeMe) -
                   reinterpret_cast<std::uintptr_t>(info.dli_fbase);
  char line[4096];
  std::snprintf(line, sizeof line, "    #%d 0x%lx  (%s+0x%lx) (BuildId: 0123)", n,
                static_cast<unsigned long>(reinterpret_cast<std::uintptr_t>(&SmtpSymbolizeMe)),
                info.dli_fname, static_cast<unsigned long>(off));
  return line;
}

TEST(ReportSymbolizerTest, NamesFramesOncePerDistinctFrame) {
  EXPECT_EQ(SmtpSymbolizeMe(1), 4);
  const std::string path = FindLlvmSymbolizer();
  ASSERT_FALSE(path.empty()) << "no llvm-symbolizer installed (Debian package llvm)";
  ReportSymbolizer sym(path);
  const std::string report = "==1==ERROR: AddressSanitizer: heap-buffer-overflow\n" + RawFrame(0) +
                             "\n    #1 0x1234  (/nonexistent/module+0x10)\n" + RawFrame(2) +
                             "\nSUMMARY: AddressSanitizer: heap-buffer-overflow\n";
  const std::string out = sym.Symbolize(report);
  EXPECT_NE(out.find("    #0 0x"), std::string::npos) << out;
  EXPECT_NE(out.find(" in SmtpSymbolizeMe "), std::string::npos) << out;
  EXPECT_NE(out.find("report_symbolizer_test.cc:"), std::string::npos) << out;
  EXPECT_NE(out.find("    #2 0x"), std::string::npos) << out;
  // A module the symbolizer cannot read stays as it was.
  EXPECT_NE(out.find("    #1 0x1234  (/nonexistent/module+0x10)\n"), std::string::npos) << out;
  EXPECT_NE(out.find("SUMMARY: AddressSanitizer"), std::string::npos) << out;
  const int runs = sym.runs();
  EXPECT_GE(runs, 1);
  // The same frames again: from the cache, no symbolizer run.
  EXPECT_EQ(sym.Symbolize(report), out);
  EXPECT_EQ(sym.runs(), runs);
  // Text without unsymbolized frames is returned as is.
  const std::string plain = "    #0 0x55 in main /src/x.c:3:1\nhello (world)\n";
  EXPECT_EQ(sym.Symbolize(plain), plain);
  EXPECT_EQ(sym.runs(), runs);
}

}  // namespace
}  // namespace smtp::fuzz
