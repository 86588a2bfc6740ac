// Fuzz target: the embedded server's sans-I/O session (harness/server/
// session.h), driven in process by the network fuzzer's client machine
// (fuzz/net/client_machine.h) exactly as `smtp-harness fuzz --target
// embedded` drives it.
//
// No header: the whole input is a serialized session input
// (results/session_input.h; seeds are sessions, corpus/fuzz_server_session/).
// Each input runs three times: against the strict profile, the lenient one,
// and the strict profile speaking LMTP (RFC 2033: the session's EHLO/HELO
// sent as LHLO, one reply per accepted recipient at the end of a message).
// The session-level mutator (fuzz/net/mutator.h) is the custom mutator, as
// in `smtp-harness fuzz`.
//
// Oracles (the client machine's, fuzz/net/client_machine.h):
// - no crash, and memory per session bounded (the .options file's limits);
// - the server never drops the connection without a reply (kDropped);
// - every command line, body and chunk gets its reply (LMTP: the end of a
//   message one per accepted recipient): with every byte consumed, a reply
//   still owed is a hang (kHang);
// - every reply parses strictly (RFC 5321 §4.2; kBadReply);
// - strict profile: exactly one reply per command, none to a command the
//   client did not send as one (kDesync). The lenient profile ends DATA at
//   a bare LF "." LF on purpose (SMTP smuggling), so there a smuggled
//   command's reply is the expected behaviour, not a finding; and in a
//   session where it ends a body early, the replies after it are out of
//   step by design, so its hangs and drops are not findings either.
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include "fuzz/fuzz_util.h"
#include "fuzz/net/client_machine.h"
#include "fuzz/net/embedded_driver.h"
#include "fuzz/net/embedded_server.h"
#include "fuzz/net/mutator.h"
#include "parser/data_reader.h"
#include "results/session_input.h"

namespace {

// "strict", "lenient", "lmtp" (the strict profile speaking LMTP).
smtp_netfuzz_embedded::Server& ServerFor(const char* name) {
  static std::unique_ptr<smtp_netfuzz_embedded::Server> strict, lenient, lmtp;
  const std::string_view n = name;
  auto& slot = n == "strict" ? strict : n == "lenient" ? lenient : lmtp;
  if (slot == nullptr) {
    std::string error;
    slot = smtp_netfuzz_embedded::Server::Create(
        {.profile = n == "lenient" ? "lenient" : "strict", .lmtp = n == "lmtp"}, &error);
    FUZZ_CHECK(slot != nullptr, "the embedded server starts");
  }
  return *slot;
}

// Whether the lenient profile (DATA also ends at a bare-LF ".": DataEndMode::
// kBareLf) ends some DATA body of `input` before the strict end: then the
// rest of that body is read as commands and the lenient server's replies are
// out of step with the client by design (SMTP smuggling), so that a hang or
// a drop later in the session is its consequence, not a bug.
bool LenientEndsDataEarly(const smtp::fuzz::SessionInput& input) {
  for (const smtp::fuzz::SessionStep& s : input.steps) {
    if (s.kind != smtp::fuzz::StepKind::kData) continue;
    const std::string wire = smtp::DotStuff(s.bytes);  // as the client machine sends it
    smtp::DataReader strict({.mode = smtp::DataEndMode::kStrict});
    smtp::DataReader lenient({.mode = smtp::DataEndMode::kBareLf});
    if (strict.Feed(wire) != lenient.Feed(wire)) return true;
  }
  return false;
}

// `out_of_step`: the replies may be out of step by design (lenient
// profile): desync, hang and drop are then not findings.
void Check(const char* profile, const smtp::fuzz::SessionInput& input, bool desync_is_finding,
           bool out_of_step = false) {
  using smtp::fuzz::VerdictKind;
  const auto r = smtp::fuzz::RunEmbedded(ServerFor(profile), input);
  const auto kind = r.verdict.kind;
  if (kind == VerdictKind::kOk || (kind == VerdictKind::kDesync && !desync_is_finding)) return;
  if (out_of_step && (kind == VerdictKind::kHang || kind == VerdictKind::kDropped)) return;
  std::fprintf(stderr, "\nprofile %s, step %zu: %s: %s (server state %s)\n%s", profile,
               r.verdict.step, std::string(smtp::fuzz::VerdictName(kind)).c_str(),
               r.verdict.detail.c_str(), r.end_state.c_str(),
               smtp::fuzz::DebugString(input).c_str());
  // The bytes both ways, escaped, to see what happened.
  for (const auto& c : smtp::fuzz::RunEmbedded(ServerFor(profile), input, /*wire=*/true).wire) {
    std::string text;
    for (const char ch : c.bytes) {
      if (ch == '\n') {
        text += "\\n\n    ";
      } else if (ch == '\r') {
        text += "\\r";
      } else if (static_cast<unsigned char>(ch) < 32 || static_cast<unsigned char>(ch) > 126) {
        char hex[8];
        std::snprintf(hex, sizeof hex, "\\x%02x", static_cast<unsigned char>(ch));
        text += hex;
      } else {
        text += ch;
      }
    }
    std::fprintf(stderr, "%s %s\n", c.from_client ? "C:" : "S:", text.c_str());
  }
  FUZZ_CHECK(kind != VerdictKind::kDropped, "the server never drops a session without a reply");
  FUZZ_CHECK(kind != VerdictKind::kHang, "every command, body and chunk gets its reply");
  FUZZ_CHECK(kind != VerdictKind::kBadReply, "every reply parses strictly");
  FUZZ_CHECK(kind != VerdictKind::kDesync,
             "exactly one reply per command, one per recipient at LMTP's end of message "
             "(strict profile)");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const smtp::fuzz::SessionInput input = smtp::fuzz::ParseSessionInput(bytes);
  Check("strict", input, /*desync_is_finding=*/true);
  Check("lenient", input, /*desync_is_finding=*/false, LenientEndsDataEarly(input));
  Check("lmtp", input, /*desync_is_finding=*/true);
  return 0;
}

extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size,
                                               std::size_t max_size, unsigned seed);
// Weak: the replay binary (fuzz/replay_main.cc) has no libFuzzer.
extern "C" __attribute__((weak)) std::size_t LLVMFuzzerMutate(std::uint8_t* data, std::size_t size,
                                                              std::size_t max_size);

extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size,
                                               std::size_t max_size, unsigned seed) {
  static const smtp::fuzz::MutatorOptions options;
  return smtp::fuzz::MutateSession(data, size, max_size, seed, options,
                                   &LLVMFuzzerMutate != nullptr ? &LLVMFuzzerMutate : nullptr);
}

extern "C" std::size_t LLVMFuzzerCustomCrossOver(const std::uint8_t* a, std::size_t a_size,
                                                 const std::uint8_t* b, std::size_t b_size,
                                                 std::uint8_t* out, std::size_t max_out,
                                                 unsigned seed) {
  return smtp::fuzz::CrossOverSessions(a, a_size, b, b_size, out, max_out, seed);
}
