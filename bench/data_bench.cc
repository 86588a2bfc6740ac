// DATA body reading throughput: DataReader (kStrict) against the floor of
// any line-oriented reader, a bare memchr scan for '\n' over the same bytes.
//
// The body is ~1 MiB of mail-like text: lines of 60-80 octets, some empty
// lines, about 1 in 50 lines starting with "." (so dot-stuffed on the wire),
// sent as DotStuff() produces it. Figure of merit: bytes/s; the goal is
// DataReader >= 0.8 of the memchr baseline (issue 27; 50% at first).
//
//   build/<dir>/bench/data_bench --benchmark_min_time=1
#include <benchmark/benchmark.h>

#include <cstring>
#include <random>
#include <string>

#include "parser/data_reader.h"

namespace {

constexpr std::size_t kBodyBytes = 1 << 20;

// Deterministic mail-like body with CRLF line ends.
std::string MakeBody() {
  std::mt19937 rng(5321);
  const std::string_view words[] = {"the",    "message", "relay",  "server", "client", "mail",
                                    "data",   "line",    "octet",  "smtp",   "header", "body",
                                    "return", "path",    "domain", "a",      "of",     "to"};
  std::string body;
  body.reserve(kBodyBytes + 128);
  while (body.size() < kBodyBytes) {
    const unsigned roll = rng() % 100;
    if (roll < 5) {  // blank line between paragraphs
      body += "\r\n";
      continue;
    }
    std::string line;
    if (roll < 7) line += '.';  // will be dot-stuffed on the wire
    const std::size_t target = 60 + rng() % 21;
    while (line.size() < target) {
      line += words[rng() % std::size(words)];
      line += ' ';
    }
    line.resize(target);
    body += line;
    body += "\r\n";
  }
  return body;
}

const std::string& Wire() {
  static const std::string wire = smtp::DotStuff(MakeBody());
  return wire;
}

// Baseline: find every line end with memchr and do nothing else.
void BM_MemchrLines(benchmark::State& state) {
  const std::string& wire = Wire();
  for (auto _ : state) {
    const char* p = wire.data();
    const char* const end = p + wire.size();
    std::size_t lines = 0;
    while (const void* lf = std::memchr(p, '\n', static_cast<std::size_t>(end - p))) {
      p = static_cast<const char*>(lf) + 1;
      ++lines;
    }
    benchmark::DoNotOptimize(lines);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * wire.size()));
}
BENCHMARK(BM_MemchrLines);

// DataReader with the body appended to a reserved string (the common use).
// Arg: bytes per Feed (a socket read); 0 = the whole message at once.
void BM_DataReaderStrict(benchmark::State& state) {
  const std::string& wire = Wire();
  const auto chunk = static_cast<std::size_t>(state.range(0));
  std::string body;
  body.reserve(wire.size());
  for (auto _ : state) {
    body.clear();
    smtp::DataReader r;
    std::string_view in = wire;
    while (!in.empty() && !r.done()) {
      const std::size_t n = r.Feed(chunk == 0 ? in : in.substr(0, chunk), &body);
      in.remove_prefix(n);
    }
    if (!r.done()) state.SkipWithError("data did not end");
    benchmark::DoNotOptimize(body.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * wire.size()));
}
BENCHMARK(BM_DataReaderStrict)->Arg(0)->Arg(16 << 10);

// Scanning alone: the body is discarded (e.g. a server over its size limit).
void BM_DataReaderStrictDiscard(benchmark::State& state) {
  const std::string& wire = Wire();
  for (auto _ : state) {
    smtp::DataReader r;
    const std::size_t n = r.Feed(wire);
    benchmark::DoNotOptimize(n);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * wire.size()));
}
BENCHMARK(BM_DataReaderStrictDiscard);

}  // namespace
