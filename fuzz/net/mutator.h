// The network fuzzer's structure-aware mutator (docs/fuzzing.md, "Session
// inputs", "Mutator"): it parses a session input (results/session_input.h),
// applies operators at the level of steps, commands, arguments, ESMTP
// parameters and bodies, and writes the canonical serialization again. The
// byte-level entry points have the shape of libFuzzer's
// LLVMFuzzerCustomMutator and LLVMFuzzerCustomCrossOver, so a fuzz target
// forwards to them.
//
// Everything is deterministic for a given seed (fuzz/net/rng.h), and the
// output always fits `max_size`: steps are shortened or dropped to fit.
// Most operators keep a session "deep" (an EHLO first, then MAIL, RCPT and
// DATA or BDAT in that order) so that most mutated sessions get past MAIL
// and RCPT; FindTransaction measures that.
//
// Standard library and parser/ only (no Abseil, no libFuzzer symbols): it
// links into the g++ build and the clang fuzz build alike.
#ifndef SMTP_FUZZ_NET_MUTATOR_H_
#define SMTP_FUZZ_NET_MUTATOR_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/net/rng.h"
#include "results/session_input.h"

namespace smtp::fuzz {

// Mutates `size` bytes at `data` in place into at most `max_size` bytes and
// returns the new size: libFuzzer's LLVMFuzzerMutate when linked with it,
// anything of that shape in tests.
using ByteMutator = std::size_t (*)(std::uint8_t* data, std::size_t size, std::size_t max_size);

struct MutatorOptions {
  // Extra tokens for the dictionary operator (e.g. the entries of -dict),
  // used beside the built-in SMTP tokens.
  std::vector<std::string> dictionary;
  // Each MutateSession call stacks 1..max_stacked operators (geometric, so
  // mostly one).
  int max_stacked = 4;
};

// The operators, each a small named function in mutator.cc. Order is the
// stable order of MutationOpName and of the weight table.
enum class MutationOp : std::uint8_t {
  kInsertStep,     // a generated command, or a whole MAIL/RCPT/DATA transaction
  kDeleteStep,     //
  kDuplicateStep,  //
  kSwapSteps,      // two adjacent steps
  kMoveStep,       //
  kSplice,         // a run of steps from the other input (needs `other`)
  kVerb,           // another verb: known to parser/, unknown, misspelt
  kVerbCase,       // "mail", "MaIl", "from:" ...
  kArgument,       // EHLO domain, VRFY string, stray arguments, ...
  kPath,           // MAIL/RCPT path: <a@b>, <>, source routes, quoted, literals, UTF-8, long
  kMailParam,      // add / replace / drop / duplicate an ESMTP parameter on MAIL
  kRcptParam,      // the same on RCPT (NOTIFY=, ORCPT=)
  kTransaction,    // one transaction, kept valid: another RCPT, a valid parameter, another
                   // end (DATA, BDAT LAST, empty BDAT LAST, chunks), steps between dropped
  kNumber,         // a digit run becomes 0, 1, 999, 1000, 4294967295, 2^64, ...
  kDictionary,     // a dictionary token into a command
  kSmuggle,        // an end-of-data look-alike and more commands inside DATA
  kLongLine,       // a command line just over 512 octets, a body line over 1000
  kPipeline,       // set "pipelined" on a run of MAIL/RCPT/DATA (or clear it)
  kStartTls,       // a STARTTLS step (and EHLO again), or a plaintext injection
  kAuth,           // an AUTH exchange after EHLO
  kBdat,           // BDAT chunks: DATA to BDAT, chunk sizes, LAST, mismatched sizes
  kDataBody,       // a line starting with '.', long lines, 8-bit, NUL, bare CR/LF
  kRawLineEnd,     // a command sent raw with a bare LF / CR / no line end
  kBytes,          // byte-level mutation of one step's payload (the ByteMutator)
};
inline constexpr std::size_t kMutationOps = static_cast<std::size_t>(MutationOp::kBytes) + 1;

// Stable name: "insert-step", "delete-step", ..., "bytes".
std::string_view MutationOpName(MutationOp op);

struct MutationContext {
  const MutatorOptions* options = nullptr;  // null: defaults
  ByteMutator byte_mutator = nullptr;       // null: a small built-in byte mutator
  const SessionInput* other = nullptr;      // for kSplice; null: no splice
  std::size_t max_size = 4096;              // growing operators stay within it
};

// Applies `op` once. Returns false, leaving `input` as it was or changed
// harmlessly, when the operator does not apply (e.g. kSplice without
// `other`).
bool ApplyMutation(MutationOp op, SessionInput& input, Rng& rng, const MutationContext& ctx);

// Applies one operator chosen by weight (falling back to another when it
// does not apply) and returns it. Does not fit the size: see FitToSize.
MutationOp Mutate(SessionInput& input, Rng& rng, const MutationContext& ctx);

// Crossover: a prefix of `a` (at least its first step), a run of `b`, and
// sometimes the rest of `a`; or `a` up to its EHLO with `b` from its MAIL on.
SessionInput CrossOver(const SessionInput& a, const SessionInput& b, Rng& rng);

// Shortens payloads and drops steps (from the end, sparing the transaction
// of FindTransaction while others remain) until the serialization is at most
// `max_size` octets; also applies kMaxSteps and kMaxStepBytes.
void FitToSize(SessionInput& input, std::size_t max_size);

// A typical session: EHLO, sometimes STARTTLS + EHLO or AUTH, MAIL with
// parameters, 1-3 RCPT, DATA or BDAT, sometimes pipelined, sometimes QUIT.
SessionInput MakeTypicalSession(unsigned seed);

// The byte-level entry points (libFuzzer's custom mutator and crossover).
// Input bytes are read with ParseSessionInput; an input with no steps is
// replaced by MakeTypicalSession(seed). The output is the canonical
// serialization, at most max_size (max_out) octets. `data` must have room
// for max_size octets.
std::size_t MutateSession(std::uint8_t* data, std::size_t size, std::size_t max_size, unsigned seed,
                          const MutatorOptions& options, ByteMutator byte_mutator);
std::size_t CrossOverSessions(const std::uint8_t* a, std::size_t a_size, const std::uint8_t* b,
                              std::size_t b_size, std::uint8_t* out, std::size_t max_out,
                              unsigned seed);

// The steps of the first mail transaction: a command EHLO/HELO/LHLO, then a
// command MAIL, a command RCPT, and then a data step, a bdat step or a
// command DATA or BDAT, in this order (other steps may come between). With `strict`
// the four commands must also parse with ParseCommand in strict mode, so a
// conforming server accepts their syntax. Verbs match in any case.
struct Transaction {
  std::size_t hello = 0, mail = 0, rcpt = 0, data = 0;
};
std::optional<Transaction> FindTransaction(const SessionInput& input, bool strict);

}  // namespace smtp::fuzz

#endif  // SMTP_FUZZ_NET_MUTATOR_H_
