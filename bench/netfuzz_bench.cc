// The network fuzzer's in-process session rate: one session input run by
// the client machine against the embedded server (the instrumented copy the
// fuzzer uses, coverage hooks included), without libFuzzer. Baselines in
// the same run: the server alone fed the same bytes in one write, and the
// session input codec. docs/PERFORMANCE.md has the figures.
//
// NETFUZZ_CORPUS=DIR adds BM_CorpusSessions: the sessions a fuzzing run kept
// (`fuzz --out OUT` writes them to OUT/corpus), which are longer than the
// seeds, so what libFuzzer's loop runs costs more than BM_SeedSessions.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz/net/embedded_driver.h"
#include "fuzz/net/embedded_server.h"
#include "fuzz/net/mutator.h"
#include "fuzz/net/state_feedback.h"
#include "results/session_input.h"

namespace {

using smtp::fuzz::SessionInput;

std::vector<std::string> Files(const std::filesystem::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::ifstream f(e.path(), std::ios::binary);
    out.emplace_back((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  }
  return out;
}

std::vector<SessionInput> Parsed(const std::vector<std::string>& files) {
  std::vector<SessionInput> out;
  for (const std::string& bytes : files) out.push_back(smtp::fuzz::ParseSessionInput(bytes));
  return out;
}

std::vector<SessionInput> Seeds() { return Parsed(Files(SMTP_SEEDS_DIR)); }

std::unique_ptr<smtp_netfuzz_embedded::Server> MakeServer() {
  std::string error;
  return smtp_netfuzz_embedded::Server::Create({.profile = "strict"}, &error);
}

// A typical delivery: EHLO, MAIL, RCPT, DATA with a short body, QUIT.
void BM_TypicalSession(benchmark::State& state) {
  auto server = MakeServer();
  const SessionInput in = smtp::fuzz::MakeTypicalSession(1);
  for (auto _ : state) benchmark::DoNotOptimize(smtp::fuzz::RunEmbedded(*server, in));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TypicalSession);

// The shipped seeds (converted from suite runs against Postfix and
// aiosmtpd), round robin: what a fuzzing run starts from.
void BM_SeedSessions(benchmark::State& state) {
  auto server = MakeServer();
  const std::vector<SessionInput> seeds = Seeds();
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(smtp::fuzz::RunEmbedded(*server, seeds[i]));
    i = (i + 1) % seeds.size();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SeedSessions);

// The sessions of a fuzzing run's corpus (NETFUZZ_CORPUS), round robin,
// with the per-session feedback work of `fuzz` (transition keys into the
// state counters). Counters: the mean serialized size and step count.
void BM_CorpusSessions(benchmark::State& state) {
  const char* dir = std::getenv("NETFUZZ_CORPUS");
  if (dir == nullptr) {
    state.SkipWithError("set NETFUZZ_CORPUS to a fuzz run's OUT/corpus");
    return;
  }
  auto server = MakeServer();
  const std::vector<std::string> files = Files(dir);
  const std::vector<SessionInput> inputs = Parsed(files);
  double bytes = 0, steps = 0;
  for (std::size_t i = 0; i < files.size(); ++i) {
    bytes += static_cast<double>(files[i].size());
    steps += static_cast<double>(inputs[i].steps.size());
  }
  std::size_t i = 0;
  for (auto _ : state) {
    const auto r = smtp::fuzz::RunEmbedded(*server, inputs[i]);
    smtp::fuzz::AddTransitions(smtp::fuzz::TransitionKeys(r.replies), smtp::fuzz::StateCounters());
    i = (i + 1) % inputs.size();
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["bytes"] = bytes / static_cast<double>(files.size());
  state.counters["steps"] = steps / static_cast<double>(files.size());
}
BENCHMARK(BM_CorpusSessions);

// The custom mutator as libFuzzer calls it (parse, mutate, serialize) on
// the seeds, without libFuzzer's byte mutator.
void BM_MutateSession(benchmark::State& state) {
  const std::vector<std::string> seeds = Files(SMTP_SEEDS_DIR);
  const smtp::fuzz::MutatorOptions options;
  std::vector<std::uint8_t> buf(16384);
  std::size_t i = 0;
  unsigned seed = 1;
  for (auto _ : state) {
    const std::string& s = seeds[i];
    std::copy(s.begin(), s.end(), buf.begin());
    benchmark::DoNotOptimize(
        smtp::fuzz::MutateSession(buf.data(), s.size(), buf.size(), seed++, options, nullptr));
    i = (i + 1) % seeds.size();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MutateSession);

// Baseline: the server alone, fed the typical session's bytes in one write
// (no client machine, no reply parsing).
void BM_ServerOnly(benchmark::State& state) {
  auto server = MakeServer();
  const std::string bytes =
      "EHLO client.example\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n";
  const std::string body = "Subject: t\r\n\r\nhello\r\n.\r\nQUIT\r\n";
  for (auto _ : state) {
    auto c = server->Open();
    c->Start();
    c->Feed(bytes);
    c->ClearOutput();
    c->Feed(body);
    benchmark::DoNotOptimize(c->output().size());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ServerOnly);

}  // namespace
