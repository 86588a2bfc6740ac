// The network fuzzer's input: one input is one SMTP session, a sequence of
// steps the client takes after the greeting (docs/fuzzing.md, "Session
// inputs"). `convert --to corpus` writes seeds in this form; a libFuzzer
// custom mutator parses an input, mutates the steps and serializes it again.
//
// Wire form: the concatenation of one record per step,
//   record  = head length payload
//   head    = 1 octet: bits 0-3 the step kind (1..5 below), bit 4
//             "pipelined", bit 5 "last" (BDAT), bits 6-7 zero
//   length  = payload length, unsigned LEB128 (7 bits per octet, low first)
//   payload = `length` octets
// Parse accepts any bytes and never fails: a record of an unknown kind is
// skipped, unknown head bits are ignored, a non-minimal length is read, a
// length running past the end takes what is left, and reading stops at
// kMaxSteps steps; payloads over kMaxStepBytes are cut to it. Serialize
// writes the canonical form, so for every x within the limits
// Parse(Serialize(x)) == x, and Serialize(Parse(b)) is a fixed point:
// Serialize(Parse(Serialize(Parse(b)))) == Serialize(Parse(b)).
//
// Standard library only: the libFuzzer targets link it without Abseil.
#ifndef SMTP_RESULTS_SESSION_INPUT_H_
#define SMTP_RESULTS_SESSION_INPUT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace smtp::fuzz {

// What a step sends. Each kind but kRaw expects replies, as noted.
enum class StepKind : std::uint8_t {
  // payload: a command line without its line end; sent with CRLF appended.
  // One reply. Also the lines of an AUTH exchange.
  kCommand = 1,
  // payload: a message body (not dot-stuffed). Sends "DATA" CRLF; on a 354
  // reply, the body dot-stuffed with CRLF "." CRLF after it (parser/
  // data_reader.h DotStuff); one more reply.
  kData = 2,
  // payload: one BDAT chunk. Sends "BDAT <size>" (" LAST" when `last`) CRLF
  // and the chunk in one write. One reply.
  kBdat = 3,
  // payload: bytes sent exactly as they are (bare line ends, a body that is
  // not in canonical form, smuggling sequences, a line cut short). No reply
  // is expected; whatever arrives is read before the next step.
  kRaw = 4,
  // payload: empty. Sends "STARTTLS" CRLF; on a 2xx reply, the TLS
  // handshake, and the steps after it go over TLS.
  kStartTls = 5,
};

inline constexpr StepKind kLastStepKind = StepKind::kStartTls;

// Bounds Parse applies (a libFuzzer -max_len keeps inputs far smaller).
inline constexpr std::size_t kMaxSteps = 4096;
inline constexpr std::size_t kMaxStepBytes = std::size_t{1} << 20;

struct SessionStep {
  StepKind kind = StepKind::kCommand;
  std::string bytes;
  // Sent in the same write as the step before it, without waiting for that
  // step's replies (an RFC 2920 pipelined group is a step followed by steps
  // with this set).
  bool pipelined = false;
  bool last = false;  // kBdat: the chunk is the last one (BDAT ... LAST)

  friend bool operator==(const SessionStep&, const SessionStep&) = default;
};

struct SessionInput {
  std::vector<SessionStep> steps;

  friend bool operator==(const SessionInput&, const SessionInput&) = default;
};

// The canonical wire form (see the file comment).
std::string SerializeSessionInput(const SessionInput& input);

// Best-effort reading of any bytes (see the file comment); never fails.
SessionInput ParseSessionInput(std::string_view bytes);

// Stable name of a kind: "command", "data", "bdat", "raw", "starttls".
std::string_view StepKindName(StepKind kind);

// What a kBdat step sends, in one write: "BDAT <size>[ LAST]" CRLF and its
// chunk.
std::string BdatWire(const SessionStep& step);

// One line per step, for logs and test failures:
//   "command EHLO a.example", "| command RCPT TO:<b@c>" (pipelined),
//   "bdat last 12 bytes", "raw 5 bytes", "starttls".
std::string DebugString(const SessionInput& input);

}  // namespace smtp::fuzz

#endif  // SMTP_RESULTS_SESSION_INPUT_H_
