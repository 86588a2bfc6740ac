#include "results/session_input.h"

#include <algorithm>
#include <string>

namespace smtp::fuzz {
namespace {

constexpr std::uint8_t kKindMask = 0x0F;
constexpr std::uint8_t kPipelinedBit = 0x10;
constexpr std::uint8_t kLastBit = 0x20;

bool KnownKind(std::uint8_t kind) {
  return kind >= static_cast<std::uint8_t>(StepKind::kCommand) &&
         kind <= static_cast<std::uint8_t>(kLastStepKind);
}

void AppendLength(std::size_t n, std::string* out) {
  do {
    std::uint8_t b = n & 0x7F;
    n >>= 7;
    if (n != 0) b |= 0x80;
    out->push_back(static_cast<char>(b));
  } while (n != 0);
}

// Reads an unsigned LEB128 at `*pos`. Octets past the 10th (more than 64
// bits) still continue the number but add nothing; a number cut off by the
// end of the input is what was read of it. Saturates instead of wrapping.
std::size_t ReadLength(std::string_view in, std::size_t* pos) {
  std::uint64_t n = 0;
  int shift = 0;
  while (*pos < in.size()) {
    const auto b = static_cast<std::uint8_t>(in[(*pos)++]);
    if (shift < 64) {
      const std::uint64_t part = std::uint64_t{b & 0x7Fu} << shift;
      if (shift > 0 && (part >> shift) != (b & 0x7Fu)) n = UINT64_MAX;  // overflow
      n |= part;
    }
    shift += 7;
    if ((b & 0x80) == 0) break;
  }
  return n > SIZE_MAX ? SIZE_MAX : static_cast<std::size_t>(n);
}

}  // namespace

std::string SerializeSessionInput(const SessionInput& input) {
  std::string out;
  for (const SessionStep& s : input.steps) {
    std::uint8_t head = static_cast<std::uint8_t>(s.kind) & kKindMask;
    if (s.pipelined) head |= kPipelinedBit;
    if (s.last) head |= kLastBit;
    out.push_back(static_cast<char>(head));
    AppendLength(s.bytes.size(), &out);
    out.append(s.bytes);
  }
  return out;
}

SessionInput ParseSessionInput(std::string_view bytes) {
  SessionInput input;
  std::size_t pos = 0;
  while (pos < bytes.size() && input.steps.size() < kMaxSteps) {
    const auto head = static_cast<std::uint8_t>(bytes[pos++]);
    const std::size_t length = ReadLength(bytes, &pos);
    const std::size_t take = std::min(length, bytes.size() - pos);
    const std::string_view payload = bytes.substr(pos, take);
    pos += take;
    if (!KnownKind(head & kKindMask)) continue;
    SessionStep step;
    step.kind = static_cast<StepKind>(head & kKindMask);
    step.pipelined = (head & kPipelinedBit) != 0;
    step.last = (head & kLastBit) != 0;
    step.bytes.assign(payload.substr(0, kMaxStepBytes));
    input.steps.push_back(std::move(step));
  }
  return input;
}

std::string_view StepKindName(StepKind kind) {
  switch (kind) {
    case StepKind::kCommand:
      return "command";
    case StepKind::kData:
      return "data";
    case StepKind::kBdat:
      return "bdat";
    case StepKind::kRaw:
      return "raw";
    case StepKind::kStartTls:
      return "starttls";
  }
  return "unknown";
}

std::string BdatWire(const SessionStep& step) {
  return "BDAT " + std::to_string(step.bytes.size()) + (step.last ? " LAST\r\n" : "\r\n") +
         step.bytes;
}

std::string DebugString(const SessionInput& input) {
  std::string out;
  for (const SessionStep& s : input.steps) {
    if (s.pipelined) out += "| ";
    out += StepKindName(s.kind);
    if (s.last) out += " last";
    if (s.kind == StepKind::kCommand) {
      out += ' ';
      for (char c : s.bytes) {
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7F) {
          out += c;
        } else {
          static constexpr char kHex[] = "0123456789abcdef";
          out += "\\x";
          out += kHex[u >> 4];
          out += kHex[u & 15];
        }
      }
    } else if (s.kind != StepKind::kStartTls || !s.bytes.empty()) {
      out += ' ' + std::to_string(s.bytes.size()) + " bytes";
    }
    out += '\n';
  }
  return out;
}

}  // namespace smtp::fuzz
