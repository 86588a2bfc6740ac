// smtp-harness parse: the parser on the command line.
//
//   parse [--mode command|reply|data] [--lenient] [--line TEXT]
//         [--crlf auto|exact] [--data_end MODE]
//
// command mode reads one command per input line; reply and data modes read a
// byte stream. One JSON object per input goes to stdout (docs/parse-json.md)
// as soon as the input is complete: stdin is read in bounded pieces and fed
// to the push parsers of app/parse_stream.h, so memory does not grow with
// the input.
// Exit status: 0 when every input was accepted, 1 when any was rejected,
// 2 on a usage error or a read error.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/flags/flag.h"
#include "app/parse_stream.h"
#include "app/subcommand.h"
#include "app/wire_json.h"
#include "parser/data_reader.h"

ABSL_FLAG(std::string, mode, "command",
          "parse: command, reply or data; fuzz --client: the profile's command to run (plain, "
          "starttls, require_tls, auth; default plain)");
ABSL_FLAG(bool, lenient, false,
          "enable every leniency (deviations are still listed on each result)");
ABSL_FLAG(std::string, line, "",
          "parse this text instead of standard input (command mode: CRLF appended)");
ABSL_FLAG(std::string, crlf, "auto",
          "command mode: 'auto' frames input lines at LF and hands the parser CRLF; "
          "'exact' hands it the bytes as they are (LF-only lines are then bare_lf errors)");
ABSL_FLAG(std::string, data_end, "",
          "data mode: end-of-data mode (strict, lf_lines_strict_end, bare_lf, "
          "bare_lf_strip_cr, any_line_end); default strict, or bare_lf with --lenient");

namespace smtp::app {
namespace {

// Bytes read from stdin at a time.
constexpr std::size_t kReadChunk = 64 * 1024;

bool DataModeFromName(std::string_view name, DataEndMode* out) {
  for (DataEndMode m : {DataEndMode::kStrict, DataEndMode::kLfLinesStrictEnd, DataEndMode::kBareLf,
                        DataEndMode::kBareLfStripCr, DataEndMode::kAnyLineEnd}) {
    if (DataEndModeName(m) == name) {
      *out = m;
      return true;
    }
  }
  return false;
}

// Feeds stdin to `stream` until the end of input or until the parser wants
// no more. Output is flushed before each read, so every result is out
// before parse waits for input. False on a read error (reported).
bool FeedStdin(ParseStream& stream) {
  std::vector<char> buf(kReadChunk);
  while (true) {
    std::cout.flush();
    const ssize_t n = ::read(STDIN_FILENO, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      std::fprintf(stderr, "parse: reading standard input: %s\n", std::strerror(errno));
      return false;
    }
    if (n == 0 || !stream.Feed(std::string_view(buf.data(), static_cast<std::size_t>(n)))) {
      return true;
    }
  }
}

}  // namespace

int RunParse(const std::vector<std::string>& args) {
  if (!args.empty()) {
    std::fprintf(stderr, "parse: unexpected argument '%s' (input is read from stdin or --line)\n",
                 args[0].c_str());
    return 2;
  }
  const std::string mode = absl::GetFlag(FLAGS_mode);
  const std::string crlf = absl::GetFlag(FLAGS_crlf);
  if (crlf != "auto" && crlf != "exact") {
    std::fprintf(stderr, "parse: --crlf must be auto or exact\n");
    return 2;
  }
  const Leniencies len = absl::GetFlag(FLAGS_lenient) ? kAllLeniencies : kStrict;
  const std::string line = absl::GetFlag(FLAGS_line);
  const bool from_line = !line.empty();

  const EmitJson emit = [](const nlohmann::json& j) { std::cout << DumpLine(j) << '\n'; };
  std::unique_ptr<ParseStream> stream;
  if (mode == "command") {
    stream = MakeCommandStream(crlf == "exact" && !from_line, len, emit);
  } else if (mode == "reply") {
    stream = MakeReplyStream(len, emit);
  } else if (mode == "data") {
    DataEndMode dm = len ? DataEndMode::kBareLf : DataEndMode::kStrict;
    std::string name = absl::GetFlag(FLAGS_data_end);
    if (!name.empty() && !DataModeFromName(name, &dm)) {
      std::fprintf(stderr, "parse: unknown --data_end '%s'\n", name.c_str());
      return 2;
    }
    stream = MakeDataStream(dm, len, emit);
  } else {
    std::fprintf(stderr, "parse: --mode must be command, reply or data\n");
    return 2;
  }
  if (from_line) {
    stream->Feed(line);
  } else if (!FeedStdin(*stream)) {
    return 2;
  }
  stream->Finish();
  std::cout.flush();
  return stream->rejected() ? 1 : 0;
}

}  // namespace smtp::app
