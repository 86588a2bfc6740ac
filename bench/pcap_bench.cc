// import-pcap throughput (docs/PERFORMANCE.md, "pcap import").
//
// Generates a capture of complete SMTP sessions (Ethernet, IPv4; EHLO, MAIL,
// RCPT, a 24 KB DATA body in 1448-byte segments each ACKed by the server,
// QUIT, FINs) of PCAP_BENCH_MB megabytes (default 200) at
// $TMPDIR/pcap_bench.pcap, kept for the CLI comparison in PERFORMANCE.md,
// then measures over the same file:
//   BM_PcapReadOnly   libpcap's pcap_next_ex over every packet: the baseline
//                     (what `tcpdump -r FILE -w /dev/null` costs at most);
//   BM_ImportDiscard  ImportPcapFile: decoding, reassembly, transcripts;
//   BM_ImportWrite    the same plus each session file written under
//                     $TMPDIR/pcap_bench_sessions by SessionWriter (worker
//                     threads, one per core), as `smtp-harness import-pcap` does.
// bytes_per_second is capture bytes per second.
#include <pcap/pcap.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <benchmark/benchmark.h>

#include "absl/strings/str_format.h"
#include "harness/record/pcap_import.h"
#include "harness/record/pcap_test_util.h"
#include "harness/record/session_writer.h"

namespace {

namespace fs = std::filesystem;
namespace pcap = smtp::harness::pcap;
namespace t = smtp::harness::pcap::testing;

constexpr int kEth = static_cast<int>(pcap::LinkType::kEthernet);

std::string TempDir() {
  const char* d = std::getenv("TMPDIR");
  return d != nullptr && *d != '\0' ? d : "/tmp";
}

// One session's packets (without the pcap file header).
std::string SessionRecords(std::uint32_t n, std::int64_t t0) {
  const pcap::Endpoint client =
      t::V4(absl::StrFormat("10.%d.%d.1", (n >> 16) & 0xFF, (n >> 8) & 0xFF),
            static_cast<std::uint16_t>(1024 + n % 60000));
  const pcap::Endpoint server = t::V4("10.255.0.25", 25);
  t::Conversation c(client, server, t0, n * 7919u, n * 104729u);
  c.step_us = 50;
  c.Handshake().Server("220 mx.bench.example ESMTP ready\r\n");
  c.Client("EHLO client.bench.example\r\n");
  c.Server(
      "250-mx.bench.example\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-8BITMIME\r\n"
      "250 ENHANCEDSTATUSCODES\r\n");
  c.Client("MAIL FROM:<sender@bench.example>\r\n").Server("250 2.1.0 Ok\r\n");
  c.Client("RCPT TO:<rcpt@mx.bench.example>\r\n").Server("250 2.1.5 Ok\r\n");
  c.Client("DATA\r\n").Server("354 End data with <CR><LF>.<CR><LF>\r\n");
  std::string body = "Subject: bench " + std::to_string(n) + "\r\n\r\n";
  while (body.size() < 24 * 1024)
    body += "The quick brown fox jumps over the lazy dog 0123456789.\r\n";
  body += ".\r\n";
  for (std::size_t i = 0; i < body.size(); i += 1448) {
    c.Client(std::string_view(body).substr(i, 1448));
    c.Raw(false, pcap::kTcpAck, c.server_seq(), "");
  }
  c.Server("250 2.0.0 Ok: queued as 4ABC123DEF\r\n").Client("QUIT\r\n").Server("221 2.0.0 Bye\r\n");
  c.Close();
  return t::PcapFile(kEth, c.Packets(kEth)).substr(24);
}

const std::string& Capture() {
  static const std::string path = [] {
    const char* mb_env = std::getenv("PCAP_BENCH_MB");
    const std::size_t target = (mb_env != nullptr ? std::strtoul(mb_env, nullptr, 10) : 200) << 20;
    const std::string p = TempDir() + "/pcap_bench.pcap";
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    const std::string header = t::PcapFile(kEth, {});
    f.write(header.data(), static_cast<std::streamsize>(header.size()));
    std::size_t size = header.size();
    for (std::uint32_t n = 0; size < target; ++n) {
      const std::string rec = SessionRecords(n, 1'700'000'000'000'000 + std::int64_t{n} * 5000);
      f.write(rec.data(), static_cast<std::streamsize>(rec.size()));
      size += rec.size();
    }
    return p;
  }();
  return path;
}

void BM_PcapReadOnly(benchmark::State& state) {
  const std::string& path = Capture();
  std::uint64_t bytes = 0;
  for (auto _ : state) {
    char err[PCAP_ERRBUF_SIZE];
    pcap_t* p = pcap_open_offline(path.c_str(), err);
    pcap_pkthdr* h;
    const u_char* d;
    std::uint64_t sum = 0;
    while (pcap_next_ex(p, &h, &d) == 1) sum += h->caplen + d[h->caplen - 1];
    benchmark::DoNotOptimize(sum);
    pcap_close(p);
    bytes += fs::file_size(path);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}

void Import(benchmark::State& state, bool write) {
  const std::string& path = Capture();
  const fs::path out = fs::path(TempDir()) / "pcap_bench_sessions";
  std::uint64_t bytes = 0, sessions = 0;
  for (auto _ : state) {
    fs::remove_all(out);
    fs::create_directories(out);
    pcap::PcapImportStats stats;
    smtp::harness::SessionWriter writer;
    absl::Status st = pcap::ImportPcapFile(
        path, {},
        [&](std::size_t index, smtp::harness::Transcript tr) {
          if (!write) {
            benchmark::DoNotOptimize(tr.stored_bytes());
            return absl::OkStatus();
          }
          std::string file = (out / smtp::harness::SessionFileName(index, tr.meta())).string();
          return writer.Submit(std::move(file), std::move(tr));
        },
        &stats);
    if (absl::Status w = writer.Finish(); st.ok()) st = w;
    if (!st.ok()) state.SkipWithError(std::string(st.message()).c_str());
    bytes += fs::file_size(path);
    sessions = stats.sessions;
  }
  fs::remove_all(out);
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.counters["sessions"] = static_cast<double>(sessions);
}

void BM_ImportDiscard(benchmark::State& state) { Import(state, false); }
void BM_ImportWrite(benchmark::State& state) { Import(state, true); }

BENCHMARK(BM_PcapReadOnly)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();
BENCHMARK(BM_ImportDiscard)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();
BENCHMARK(BM_ImportWrite)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

}  // namespace
