// smtp-harness import-pcap: the SMTP connections of a packet capture as
// session files.
//
//   import-pcap FILE --out DIR [--port 25,465,587,2525] [--keep_secrets]
//
// Reads FILE (pcap or pcapng; harness/record/pcap_import.h) and writes one
// session file per TCP connection to an SMTP port, DIR/NNNNNN-CLIENT-SERVER.json,
// numbered from 000001 in the order the connections started, with AUTH
// secrets redacted unless --keep_secrets. Prints one summary line.
// Exit status: 0 when the capture was read to its end and held at least one
// SMTP connection; 2 on a usage error, an unreadable, malformed or truncated
// capture (the sessions recovered before the bad packet are still written),
// a capture without SMTP, or a file that cannot be written.
#include <cstdio>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "app/subcommand.h"
#include "harness/record/pcap_import.h"
#include "harness/record/session_writer.h"
#include "results/absl_compat.h"

ABSL_DECLARE_FLAG(std::string, out);    // app/run_cmd.cc
ABSL_DECLARE_FLAG(std::string, port);   // app/report_cmd.cc
ABSL_DECLARE_FLAG(bool, keep_secrets);  // app/record_cmd.cc

namespace smtp::app {
namespace {

namespace fs = std::filesystem;
namespace pcap = harness::pcap;

int Fail(const std::string& message) {
  std::fprintf(stderr, "smtp-harness import-pcap: %s\n", message.c_str());
  return 2;
}

// "25,587" -> {25, 587}; false on anything else.
bool ParsePorts(const std::string& text, std::vector<std::uint16_t>* ports) {
  ports->clear();
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    int port = 0;
    if (!absl::SimpleAtoi(part, &port) || port < 1 || port > 65535) return false;
    ports->push_back(static_cast<std::uint16_t>(port));
  }
  return !ports->empty();
}

}  // namespace

int RunImportPcap(const std::vector<std::string>& args) {
  if (args.size() != 1) {
    return Fail("usage: import-pcap FILE --out DIR [--port 25,465,587,2525] [--keep_secrets]");
  }
  const std::string& file = args[0];
  const std::string out = absl::GetFlag(FLAGS_out);
  if (out.empty()) return Fail("--out DIR is required (where the session files go)");
  pcap::PcapImportOptions options;
  options.keep_secrets = absl::GetFlag(FLAGS_keep_secrets);
  if (const std::string ports = absl::GetFlag(FLAGS_port); !ports.empty()) {
    if (!ParsePorts(ports, &options.ports)) {
      return Fail("--port: '" + ports + "' is not a comma-separated list of ports 1..65535");
    }
  }
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) return Fail("cannot create " + out + ": " + ec.message());

  harness::SessionWriter writer;
  const auto sink = [&writer, &out](std::size_t index, harness::Transcript t) {
    std::string path = (fs::path(out) / harness::SessionFileName(index, t.meta())).string();
    return writer.Submit(std::move(path), std::move(t));
  };
  pcap::PcapImportStats stats;
  absl::Status st = pcap::ImportPcapFile(file, options, sink, &stats);
  if (absl::Status w = writer.Finish(); !w.ok() && st.ok()) st = w;
  const std::uint64_t written = writer.written();
  std::string summary = absl::StrFormat("import-pcap: %d packets, %d SMTP session%s written to %s",
                                        stats.packets, written, written == 1 ? "" : "s", out);
  if (stats.midstream > 0) {
    absl::StrAppendFormat(&summary, "; %d started before the capture", stats.midstream);
  }
  if (stats.redacted > 0) {
    absl::StrAppendFormat(&summary, "; AUTH secrets redacted in %d", stats.redacted);
  }
  if (stats.unsaved_secret > 0) {
    absl::StrAppendFormat(&summary,
                          "; %d not written: an AUTH response too long to redact "
                          "(--keep_secrets writes them)",
                          stats.unsaved_secret);
  }
  if (stats.empty_connections > 0) {
    absl::StrAppendFormat(&summary, "; %d connection%s carried no byte (no file)",
                          stats.empty_connections, stats.empty_connections == 1 ? "" : "s");
  }
  if (stats.not_smtp > 0) {
    absl::StrAppendFormat(&summary, "; %d not SMTP (no file)", stats.not_smtp);
  }
  if (stats.conflicting_retransmissions > 0) {
    absl::StrAppendFormat(
        &summary, "; %d retransmission%s with different bytes (first copy kept, noted)",
        stats.conflicting_retransmissions, stats.conflicting_retransmissions == 1 ? "" : "s");
  }
  if (stats.lost_bytes > 0) {
    absl::StrAppendFormat(&summary, "; %d bytes never captured (see the \"error\" entries)",
                          stats.lost_bytes);
  }
  if (!st.ok()) {
    if (written > 0) std::printf("%s (recovered before the error)\n", summary.c_str());
    return Fail(Message(st));
  }
  std::printf("%s\n", summary.c_str());
  return 0;
}

}  // namespace smtp::app
