#include "harness/replay/to_corpus.h"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <utility>

#include "absl/status/status.h"
#include "parser/data_reader.h"
#include "results/atomic_file.h"

namespace smtp::replay {
namespace {

using fuzz::SessionInput;
using fuzz::SessionStep;
using fuzz::StepKind;

// Option headers (the comment at the top of each fuzz/fuzz_<x>.cc), strict
// and with the RFC limits, as fuzz/make_seeds.py writes its "strict" seeds.
constexpr std::string_view kCommandHeader{"\0\0\0\0", 4};      // leniencies, flags, param
constexpr std::string_view kReplyHeader{"\0\0\0\0\x05\0", 6};  // ..., split seed 5
// [mode strict][small][split seed 3][BDAT chunk size, u32 LE].
std::string DataHeader(std::uint32_t bdat_size) {
  std::string h{"\0\0\x03\0", 4};
  for (int i = 0; i < 4; ++i) h += static_cast<char>((bdat_size >> (8 * i)) & 0xFF);
  return h;
}

// A unit that is a plain line: its text, sent with CRLF, gives its bytes.
bool PlainLine(const Sent& u) {
  return (u.kind == Sent::Kind::kCommand || u.kind == Sent::Kind::kSasl) && u.crlf &&
         u.text.find_first_of("\r\n") == std::string::npos;
}

bool CanonicalBdat(const Sent& u) {
  const std::string line =
      "BDAT " + std::to_string(u.text.size()) + (u.bdat_last ? " LAST" : "") + "\r\n";
  return u.bytes.size() == line.size() + u.text.size() && u.bytes.starts_with(line);
}

bool CanonicalBody(const Sent& u) {
  return u.kind == Sent::Kind::kDataBody && DotStuff(u.text) == u.bytes;
}

}  // namespace

SessionInput ToSessionInput(const Exchanges& x) {
  SessionInput in;
  bool body_taken = false;  // the next exchange's body went into a data step
  for (std::size_t i = 1; i < x.exchanges.size(); ++i) {
    const Exchange& e = x.exchanges[i];
    for (std::size_t k = 0; k < e.sent.size(); ++k) {
      const Sent& u = e.sent[k];
      SessionStep step;
      step.pipelined = k > 0;
      if (k == 0 && body_taken) {
        body_taken = false;
        continue;
      }
      const bool answered = k < e.replies.size();
      if (u.kind == Sent::Kind::kCommand && u.verb == Verb::kStarttls && k + 1 == e.sent.size() &&
          (e.tls_established || e.tls_opaque) && answered && e.replies[k].code / 100 == 2) {
        step.kind = StepKind::kStartTls;
      } else if (u.kind == Sent::Kind::kCommand && u.verb == Verb::kData && answered &&
                 e.replies[k].code == 354 && k + 1 == e.sent.size() && i + 1 < x.exchanges.size() &&
                 !x.exchanges[i + 1].sent.empty() && CanonicalBody(x.exchanges[i + 1].sent[0])) {
        step.kind = StepKind::kData;
        step.bytes = x.exchanges[i + 1].sent[0].text;
        body_taken = true;
      } else if (PlainLine(u)) {
        step.kind = StepKind::kCommand;
        step.bytes = u.text;
      } else if (u.kind == Sent::Kind::kBdat && CanonicalBdat(u)) {
        step.kind = StepKind::kBdat;
        step.bytes = u.text;
        step.last = u.bdat_last;
      } else {
        step.kind = StepKind::kRaw;
        step.bytes = u.bytes;
      }
      in.steps.push_back(std::move(step));
    }
    if (e.tls_opaque) break;
  }
  return in;
}

std::vector<CorpusSeed> CorpusSeeds(const Exchanges& x) {
  std::vector<CorpusSeed> seeds;
  for (const Exchange& e : x.exchanges) {
    for (const Sent& u : e.sent) {
      switch (u.kind) {
        case Sent::Kind::kCommand:
          seeds.push_back({"fuzz_command", std::string(kCommandHeader) + u.bytes});
          break;
        case Sent::Kind::kDataBody:
        case Sent::Kind::kRaw:  // most often a body the server ended early
          seeds.push_back({"fuzz_data", DataHeader(20) + u.bytes});
          break;
        case Sent::Kind::kBdat: {
          const std::size_t line = u.bytes.size() - u.text.size();
          seeds.push_back({"fuzz_command", std::string(kCommandHeader) + u.bytes.substr(0, line)});
          if (u.text.size() < (std::size_t{1} << 31)) {
            seeds.push_back(
                {"fuzz_data", DataHeader(static_cast<std::uint32_t>(u.text.size())) + u.text});
          }
          break;
        }
        case Sent::Kind::kSasl:
        case Sent::Kind::kPartial:
          break;
      }
    }
    for (const std::string& r : e.reply_bytes) {
      seeds.push_back({"fuzz_reply", std::string(kReplyHeader) + r});
    }
  }
  const SessionInput in = ToSessionInput(x);
  if (!in.steps.empty()) seeds.push_back({"session", fuzz::SerializeSessionInput(in)});
  return seeds;
}

absl::StatusOr<std::size_t> WriteCorpus(const std::vector<CorpusSeed>& seeds,
                                        const std::string& dir) {
  namespace fs = std::filesystem;
  std::size_t written = 0;
  for (const CorpusSeed& s : seeds) {
    const fs::path sub = fs::path(dir) / s.target;
    std::error_code ec;
    fs::create_directories(sub, ec);
    if (ec) {
      return absl::InternalError("cannot create " + sub.string() + ": " + ec.message());
    }
    const fs::path file = sub / Sha1Hex(s.bytes);
    if (fs::exists(file, ec)) continue;
    if (auto st = smtp::WriteFileAtomic(file.string(), s.bytes); !st.ok()) return st;
    ++written;
  }
  return written;
}

}  // namespace smtp::replay
