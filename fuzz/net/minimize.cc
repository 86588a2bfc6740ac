#include "fuzz/net/minimize.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace smtp::fuzz {
namespace {

std::size_t PayloadBytes(const SessionInput& in) {
  std::size_t n = 0;
  for (const auto& s : in.steps) n += s.bytes.size();
  return n;
}

class Minimizer {
 public:
  Minimizer(const StillFails& f, std::size_t max_runs) : f_(f), max_runs_(max_runs) {}

  bool Try(const SessionInput& candidate) {
    if (runs_ >= max_runs_) return false;
    ++runs_;
    return f_(candidate);
  }
  bool exhausted() const { return runs_ >= max_runs_; }
  std::size_t runs() const { return runs_; }

  // ddmin over a sequence: remove chunks of size n/2, n/4 ... 1 while the
  // rest still fails. `make` builds a candidate from the kept items.
  template <typename T, typename Make>
  std::vector<T> DeltaDebug(std::vector<T> items, const Make& make) {
    std::size_t chunk = std::max<std::size_t>(items.size() / 2, 1);
    while (!items.empty() && !exhausted()) {
      bool removed = false;
      for (std::size_t start = 0; start < items.size() && !exhausted();) {
        std::vector<T> rest(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(start));
        const std::size_t end = std::min(items.size(), start + chunk);
        rest.insert(rest.end(), items.begin() + static_cast<std::ptrdiff_t>(end), items.end());
        if (Try(make(rest))) {
          items = std::move(rest);
          removed = true;  // same start: the next chunk moved here
        } else {
          start += chunk;
        }
      }
      if (chunk == 1 && !removed) break;
      if (!removed) chunk = std::max<std::size_t>(chunk / 2, 1);
    }
    return items;
  }

 private:
  const StillFails& f_;
  std::size_t max_runs_;
  std::size_t runs_ = 0;
};

// The command lines of bytes that are only whole CRLF-ended lines, with no
// bare CR or LF inside (what command steps send); empty otherwise.
std::vector<std::string> WholeLines(std::string_view bytes) {
  std::vector<std::string> lines;
  if (!bytes.ends_with("\r\n")) return {};
  for (std::size_t at = 0; at < bytes.size();) {
    const std::size_t end = bytes.find("\r\n", at);
    std::string line(bytes.substr(at, end - at));
    if (line.find_first_of("\r\n") != std::string::npos) return {};
    lines.push_back(std::move(line));
    at = end + 2;
  }
  return lines;
}

// `bytes` with each bare LF made CRLF (a bare CR stays).
std::string CrlfLineEnds(std::string_view bytes) {
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (bytes[i] == '\n' && (i == 0 || bytes[i - 1] != '\r')) out += '\r';
    out += bytes[i];
  }
  return out;
}

// What a raw or BDAT step could be read as: its wire bytes, or those joined
// with the next step's when that is raw or a command (a raw "EHLO "
// completed by a command step "x" is the line "EHLO x"); each as it is and
// with bare LFs made CRLF. A server without CHUNKING reads a BDAT chunk as
// command lines. `steps` is how many steps a reading replaces.
struct RawReading {
  std::string bytes;
  std::size_t steps;
};
std::vector<RawReading> RawReadings(const std::vector<SessionStep>& steps, std::size_t i) {
  const std::string wire = steps[i].kind == StepKind::kBdat ? BdatWire(steps[i]) : steps[i].bytes;
  std::vector<RawReading> joins{{wire, 1}};
  if (i + 1 < steps.size()) {
    const SessionStep& next = steps[i + 1];
    if (next.kind == StepKind::kRaw) joins.push_back({wire + next.bytes, 2});
    if (next.kind == StepKind::kCommand) joins.push_back({wire + next.bytes + "\r\n", 2});
  }
  std::vector<RawReading> out;
  for (const RawReading& r : joins) {
    out.push_back(r);
    std::string crlf = CrlfLineEnds(r.bytes);
    if (crlf != r.bytes) out.push_back({std::move(crlf), r.steps});
  }
  return out;
}

}  // namespace

SessionInput Minimize(const SessionInput& input, const StillFails& still_fails,
                      std::size_t max_runs, MinimizeStats* stats) {
  Minimizer m(still_fails, max_runs);
  SessionInput best = input;
  // Command level: which steps matter.
  const auto from_steps = [](const std::vector<SessionStep>& steps) { return SessionInput{steps}; };
  best.steps = m.DeltaDebug(best.steps, from_steps);
  // Raw and BDAT steps that read as whole command lines become command
  // steps, when the finding still holds: a plainer finding (it reads as
  // commands, and each may wait for its reply), then the steps again. A step
  // may be read with the step after it, and with its bare LFs as CRLF
  // (RawReadings): the fuzzer often cuts a line across two steps.
  // Replaces steps [i, i + replaced) of `best` by the command steps `lines`
  // (pipelined after the first, or each waiting for its reply) when the
  // finding holds for that.
  const auto try_as_commands = [&](std::size_t i, std::size_t replaced,
                                   const std::vector<std::string>& lines) {
    for (const bool pipelined : {false, true}) {
      SessionInput c = best;
      std::vector<SessionStep> commands;
      for (const std::string& line : lines) {
        commands.push_back({StepKind::kCommand, line, pipelined && !commands.empty(), false});
      }
      commands.front().pipelined = best.steps[i].pipelined;
      const auto at = c.steps.begin() + static_cast<std::ptrdiff_t>(i);
      c.steps.erase(at, at + static_cast<std::ptrdiff_t>(replaced));
      c.steps.insert(c.steps.begin() + static_cast<std::ptrdiff_t>(i), commands.begin(),
                     commands.end());
      if (m.Try(c)) {
        best = std::move(c);
        return true;
      }
    }
    return false;
  };
  bool split = false;
  for (std::size_t i = 0; i < best.steps.size() && !m.exhausted(); ++i) {
    if (best.steps[i].kind != StepKind::kRaw && best.steps[i].kind != StepKind::kBdat) continue;
    for (const RawReading& reading : RawReadings(best.steps, i)) {
      const std::vector<std::string> lines = WholeLines(reading.bytes);
      if (lines.empty() || !try_as_commands(i, reading.steps, lines)) continue;
      i += lines.size() - 1;
      split = true;
      break;
    }
  }
  if (split) best.steps = m.DeltaDebug(best.steps, from_steps);
  // A pipelined flag on the first step means nothing; drop the rest where
  // the finding does not need them.
  for (std::size_t i = 0; i < best.steps.size() && !m.exhausted(); ++i) {
    if (!best.steps[i].pipelined) continue;
    SessionInput c = best;
    c.steps[i].pipelined = false;
    if (m.Try(c)) best = std::move(c);
  }
  // Byte level: each payload in turn.
  for (std::size_t i = 0; i < best.steps.size() && !m.exhausted(); ++i) {
    const std::string& bytes = best.steps[i].bytes;
    std::vector<char> chars(bytes.begin(), bytes.end());
    const std::vector<char> kept = m.DeltaDebug(chars, [&](const std::vector<char>& cs) {
      SessionInput c = best;
      c.steps[i].bytes.assign(cs.begin(), cs.end());
      return c;
    });
    best.steps[i].bytes.assign(kept.begin(), kept.end());
  }
  if (stats != nullptr) {
    stats->runs = m.runs();
    stats->steps_before = input.steps.size();
    stats->steps_after = best.steps.size();
    stats->bytes_before = PayloadBytes(input);
    stats->bytes_after = PayloadBytes(best);
  }
  return best;
}

}  // namespace smtp::fuzz
