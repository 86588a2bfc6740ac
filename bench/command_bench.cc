// Command parsing throughput versus Boost.Beast's HTTP request parser.
//
// Both sides get a stream of the same size built from realistic messages:
// an SMTP client's command stream (EHLO, MAIL with parameters, RCPTs, DATA,
// RSET, NOOP, QUIT, ...) and typical browser/API HTTP requests. Each side
// frames and parses every message of its stream; bytes/s is the figure of
// merit, and allocs_per_cmd counts heap allocations per SMTP command.
//
// BM_SmtpCommands frames and parses each command in one pass with
// ParseNextCommand (parser/command_stream.h) over the buffered stream, into
// one reused Command, as the embedded server's read loop does
// (harness/server/session.cc). For comparison: BM_SmtpCommandsMemchr cuts
// each line with memchr and parses it with ParseCommandInto (the two-pass
// shape before), and BM_SmtpCommandsByValue calls ParseCommand, which returns
// a fresh Command per line. Beast gets a fresh
// request_parser<empty_body> per message, which is how Beast is used.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstring>
#include <string>
#include <vector>

#include "parser/alloc_counter_test_util.h"
#include "parser/command.h"
#include "parser/command_stream.h"

namespace {

namespace http = boost::beast::http;

constexpr std::size_t kStreamBytes = 1 << 20;

const std::vector<std::string>& SmtpSession() {
  static const std::vector<std::string> s = {
      "EHLO client.example.org\r\n",
      "MAIL FROM:<alice.sender@example.org> SIZE=48213 BODY=8BITMIME\r\n",
      "RCPT TO:<bob@example.com>\r\n",
      "RCPT TO:<carol.recipient@mail.example.com> NOTIFY=SUCCESS,FAILURE\r\n",
      "RCPT TO:<\"dave smith\"@example.net>\r\n",
      "DATA\r\n",
      "RSET\r\n",
      "MAIL FROM:<> RET=HDRS ENVID=QQ314159\r\n",
      "RCPT TO:<Postmaster>\r\n",
      "RCPT TO:<ops@[192.0.2.17]>\r\n",
      "NOOP\r\n",
      "VRFY postmaster\r\n",
      "BDAT 86723 LAST\r\n",
      "AUTH PLAIN AHRlc3QAdGVzdHBhc3M=\r\n",
      "HELP\r\n",
      "QUIT\r\n",
  };
  return s;
}

const std::vector<std::string>& HttpRequests() {
  static const std::vector<std::string> r = {
      "GET /index.html HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: Mozilla/5.0 (X11; "
      "Linux x86_64)\r\nAccept: text/html,application/xhtml+xml\r\nAccept-Language: "
      "en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n\r\n",
      "POST /api/v1/messages HTTP/1.1\r\nHost: api.example.com\r\nContent-Type: "
      "application/json\r\nAuthorization: Bearer abcdef0123456789\r\nContent-Length: 0\r\n\r\n",
      "GET /favicon.ico HTTP/1.1\r\nHost: www.example.com\r\nAccept: image/*\r\n\r\n",
  };
  return r;
}

std::string BuildStream(const std::vector<std::string>& parts, std::size_t* count) {
  std::string s;
  *count = 0;
  while (s.size() < kStreamBytes) {
    for (const auto& p : parts) {
      s += p;
      ++*count;
    }
  }
  return s;
}

// The counters of an SMTP benchmark: bytes and commands per second, and
// global operator new calls per command; an error if a command failed.
void ReportCommands(benchmark::State& state, std::size_t stream_size, std::size_t parsed,
                    std::size_t failed, std::size_t allocs) {
  if (failed) state.SkipWithError("a benchmark command failed to parse");
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * stream_size));
  state.counters["cmds"] =
      benchmark::Counter(static_cast<double>(parsed), benchmark::Counter::kIsRate);
  state.counters["allocs_per_cmd"] =
      parsed ? static_cast<double>(allocs) / static_cast<double>(parsed) : 0.0;
}

// Frames `stream` with memchr and hands each line to `parse`, which returns
// true when the line parsed.
template <class Parse>
void RunSmtp(benchmark::State& state, Parse parse) {
  std::size_t count = 0;
  const std::string stream = BuildStream(SmtpSession(), &count);
  std::size_t parsed = 0, failed = 0;
  const std::size_t allocs_before = smtp::testing::AllocationCount();
  for (auto _ : state) {
    const char* p = stream.data();
    const char* end = p + stream.size();
    while (p < end) {
      const char* lf = static_cast<const char*>(std::memchr(p, '\n', end - p));
      std::size_t len = static_cast<std::size_t>(lf - p) + 1;
      if (parse(std::string_view(p, len))) {
        ++parsed;
      } else {
        ++failed;
      }
      p += len;
    }
  }
  ReportCommands(state, stream.size(), parsed, failed,
                 smtp::testing::AllocationCount() - allocs_before);
}

// The server's reader bound (harness/server/session.cc): room for AUTH.
constexpr std::size_t kServerMaxLine = std::max(smtp::kMaxCommandLine, smtp::kMaxAuthLine);

void BM_SmtpCommands(benchmark::State& state) {
  std::size_t count = 0;
  const std::string stream = BuildStream(SmtpSession(), &count);
  const smtp::CommandOptions opts;
  smtp::Command cmd;
  smtp::CommandFrame frame;
  std::size_t parsed = 0, failed = 0;
  const std::size_t allocs_before = smtp::testing::AllocationCount();
  for (auto _ : state) {
    std::string_view rest = stream;
    for (;;) {
      const smtp::ParseError e = smtp::ParseNextCommand(rest, opts, kServerMaxLine, &cmd, &frame);
      if (e.code == smtp::Errc::kNeedMore) break;
      benchmark::DoNotOptimize(cmd.verb);
      if (e.code == smtp::Errc::kOk) {
        ++parsed;
      } else {
        ++failed;
      }
      rest.remove_prefix(frame.size);
    }
    if (!rest.empty()) ++failed;
  }
  ReportCommands(state, stream.size(), parsed, failed,
                 smtp::testing::AllocationCount() - allocs_before);
}
BENCHMARK(BM_SmtpCommands);

void BM_SmtpCommandsMemchr(benchmark::State& state) {
  const smtp::CommandOptions opts;
  smtp::Command cmd;
  RunSmtp(state, [&](std::string_view line) {
    const smtp::ParseError e = smtp::ParseCommandInto(line, opts, &cmd);
    benchmark::DoNotOptimize(cmd.verb);
    return e.code == smtp::Errc::kOk;
  });
}
BENCHMARK(BM_SmtpCommandsMemchr);

// The ceiling of any framing: the lines are cut before the timed loop and
// only parsed in it (ParseCommandInto into one reused Command). For
// information: no reader gets its lines for free.
void BM_SmtpParseOnly(benchmark::State& state) {
  std::size_t count = 0;
  const std::string stream = BuildStream(SmtpSession(), &count);
  std::vector<std::string_view> lines;
  for (std::size_t p = 0; p < stream.size();) {
    const std::size_t lf = stream.find('\n', p);
    lines.emplace_back(stream.data() + p, lf + 1 - p);
    p = lf + 1;
  }
  const smtp::CommandOptions opts;
  smtp::Command cmd;
  std::size_t parsed = 0, failed = 0;
  for (auto _ : state) {
    for (const std::string_view line : lines) {
      const smtp::ParseError e = smtp::ParseCommandInto(line, opts, &cmd);
      benchmark::DoNotOptimize(cmd.verb);
      if (e.code == smtp::Errc::kOk) {
        ++parsed;
      } else {
        ++failed;
      }
    }
  }
  if (failed) state.SkipWithError("a benchmark command failed to parse");
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * stream.size()));
  state.counters["cmds"] =
      benchmark::Counter(static_cast<double>(parsed), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SmtpParseOnly);

void BM_SmtpCommandsByValue(benchmark::State& state) {
  const smtp::CommandOptions opts;
  RunSmtp(state, [&](std::string_view line) {
    auto r = smtp::ParseCommand(line, opts);
    if (!r.ok()) return false;
    benchmark::DoNotOptimize(r->verb);
    return true;
  });
}
BENCHMARK(BM_SmtpCommandsByValue);

void BM_BeastHttpRequests(benchmark::State& state) {
  std::size_t count = 0;
  const std::string stream = BuildStream(HttpRequests(), &count);
  std::size_t parsed = 0;
  for (auto _ : state) {
    boost::asio::const_buffer buf(stream.data(), stream.size());
    while (buf.size() > 0) {
      http::request_parser<http::empty_body> parser;
      parser.eager(true);
      boost::beast::error_code ec;
      std::size_t n = parser.put(buf, ec);
      if (ec || !parser.is_done()) {
        state.SkipWithError("beast parse failed");
        return;
      }
      buf += n;
      ++parsed;
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * stream.size()));
  state.counters["msgs"] =
      benchmark::Counter(static_cast<double>(parsed), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_BeastHttpRequests);

}  // namespace
