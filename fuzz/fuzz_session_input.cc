// Fuzz target: the network fuzzer's session input codec
// (results/session_input.h), which a custom mutator will run on every
// input it mutates.
//
// No header: the whole input is a serialized session input (seeds: what
// `smtp-harness convert --to corpus` writes to DIR/session/ from recorded
// sessions).
//
// Oracles:
// - ParseSessionInput accepts anything, within kMaxSteps and kMaxStepBytes;
// - Serialize(Parse(b)) is a fixed point: Parse(Serialize(x)) == x for
//   x = Parse(b), and it serializes to the same bytes again;
// - the canonical form is no longer than the input but for one octet: a
//   minimal length is never longer than the one read, a skipped record
//   vanishes, a cut payload shrinks; only a last head with no length octet
//   at all gains one ("\x04" reads as an empty raw step, "\x04\x00");
// - DebugString has one line per step.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_util.h"
#include "results/session_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using smtp::fuzz::SessionInput;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const SessionInput x = smtp::fuzz::ParseSessionInput(bytes);
  FUZZ_CHECK(x.steps.size() <= smtp::fuzz::kMaxSteps, "at most kMaxSteps steps");
  std::size_t payload = 0;
  for (const auto& s : x.steps) {
    FUZZ_CHECK(s.bytes.size() <= smtp::fuzz::kMaxStepBytes, "a payload is at most kMaxStepBytes");
    FUZZ_CHECK(s.kind >= smtp::fuzz::StepKind::kCommand && s.kind <= smtp::fuzz::kLastStepKind,
               "only known kinds are read");
    payload += s.bytes.size();
  }
  FUZZ_CHECK(payload <= bytes.size(), "payloads come from the input");
  const std::string wire = smtp::fuzz::SerializeSessionInput(x);
  const SessionInput y = smtp::fuzz::ParseSessionInput(wire);
  FUZZ_CHECK(y == x, "Parse(Serialize(x)) == x");
  FUZZ_CHECK(smtp::fuzz::SerializeSessionInput(y) == wire, "Serialize(Parse(b)) is a fixed point");
  FUZZ_CHECK(wire.size() <= bytes.size() + 1, "the canonical form is at most one octet longer");
  const std::string dump = smtp::fuzz::DebugString(x);
  FUZZ_CHECK(static_cast<std::size_t>(std::count(dump.begin(), dump.end(), '\n')) == x.steps.size(),
             "DebugString has a line per step");
  return 0;
}
