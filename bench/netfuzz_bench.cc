// The network fuzzer's in-process session rate: one session input run by
// the client machine against the embedded server (the instrumented copy the
// fuzzer uses, coverage hooks included), without libFuzzer. Baselines in
// the same run: the server alone fed the same bytes in one write, and the
// session input codec. docs/PERFORMANCE.md has the figures.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz/net/embedded_driver.h"
#include "fuzz/net/embedded_server.h"
#include "fuzz/net/mutator.h"
#include "fuzz/net/session_input.h"

namespace {

using smtp::fuzz::SessionInput;

std::vector<SessionInput> Seeds() {
  std::vector<SessionInput> out;
  const std::filesystem::path dir = SMTP_SEEDS_DIR;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::ifstream f(e.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    out.push_back(smtp::fuzz::ParseSessionInput(bytes));
  }
  return out;
}

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
