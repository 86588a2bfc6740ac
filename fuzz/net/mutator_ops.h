// Internal to the session mutator: the helpers its operators share and the
// operators of mutator_wire_ops.cc (smuggling, long lines, pipelining,
// STARTTLS, AUTH, BDAT, bodies, raw line ends, bytes). See mutator.h.
#ifndef SMTP_FUZZ_NET_MUTATOR_OPS_H_
#define SMTP_FUZZ_NET_MUTATOR_OPS_H_

#include <cstddef>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "fuzz/net/mutator.h"
#include "fuzz/net/mutator_grammar.h"

namespace smtp::fuzz::internal {

using Steps = std::vector<SessionStep>;
inline constexpr std::size_t kNone = static_cast<std::size_t>(-1);

inline SessionStep Command(std::string line, bool pipelined = false) {
  return {StepKind::kCommand, std::move(line), pipelined, false};
}

inline std::size_t SerializedSize(const SessionInput& in) {
  std::size_t n = 0;
  for (const SessionStep& s : in.steps) {
    n += 2 + s.bytes.size();
    for (std::size_t len = s.bytes.size() >> 7; len != 0; len >>= 7) ++n;
  }
  return n;
}

// Octets the operators may still add without going over ctx.max_size.
inline std::size_t Budget(const SessionInput& in, const MutationContext& ctx) {
  const std::size_t used = SerializedSize(in);
  return ctx.max_size > used ? ctx.max_size - used : 0;
}

inline bool InTransaction(const std::optional<Transaction>& t, std::size_t i) {
  return t && (i == t->hello || i == t->mail || i == t->rcpt || i == t->data);
}

// A random index among the steps for which `ok` holds, or kNone. With
// `spare`, steps of the first transaction are passed over seven times in
// eight, so that destructive operators mostly keep a session deep.
template <class Pred>
std::size_t PickStep(const SessionInput& in, Rng& rng, bool spare, Pred ok) {
  std::vector<std::size_t> all, outside;
  const std::optional<Transaction> t = spare ? FindTransaction(in, false) : std::nullopt;
  for (std::size_t i = 0; i < in.steps.size(); ++i) {
    if (!ok(in.steps[i])) continue;
    all.push_back(i);
    if (!InTransaction(t, i)) outside.push_back(i);
  }
  if (all.empty()) return kNone;
  if (!outside.empty() && !rng.OneIn(8)) return outside[rng.Below(outside.size())];
  return all[rng.Below(all.size())];
}

inline std::size_t PickStep(const SessionInput& in, Rng& rng, bool spare) {
  return PickStep(in, rng, spare, [](const SessionStep&) { return true; });
}

inline bool IsCommand(const SessionStep& s) { return s.kind == StepKind::kCommand; }
inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }
inline bool IsMail(const SessionStep& s) { return grammar::IsVerb(s, "MAIL"); }
inline bool IsRcpt(const SessionStep& s) { return grammar::IsVerb(s, "RCPT"); }
inline bool IsBody(const SessionStep& s) {
  return s.kind == StepKind::kData || s.kind == StepKind::kBdat;
}

// Where a new step goes: mostly after the first step (so an EHLO stays
// first), anywhere otherwise.
inline std::size_t InsertPosition(const SessionInput& in, Rng& rng) {
  if (in.steps.empty()) return 0;
  return rng.OneIn(8) ? rng.Below(in.steps.size() + 1) : 1 + rng.Below(in.steps.size());
}

// Just after the hello (and a STARTTLS and EHLO right behind it), for AUTH.
inline std::size_t AfterHello(const SessionInput& in) {
  std::size_t i = 0;
  while (i < in.steps.size() && !grammar::IsVerb(in.steps[i], "EHLO") &&
         !grammar::IsVerb(in.steps[i], "HELO") && !grammar::IsVerb(in.steps[i], "LHLO")) {
    ++i;
  }
  if (i == in.steps.size()) return 0;
  ++i;
  if (i < in.steps.size() && in.steps[i].kind == StepKind::kStartTls) {
    ++i;
    if (i < in.steps.size() && grammar::IsVerb(in.steps[i], "EHLO")) ++i;
  }
  return i;
}

inline void Insert(SessionInput& in, std::size_t at, Steps steps) {
  in.steps.insert(in.steps.begin() + static_cast<std::ptrdiff_t>(at),
                  std::make_move_iterator(steps.begin()), std::make_move_iterator(steps.end()));
}

bool Smuggle(SessionInput& in, Rng& rng, const MutationContext& ctx);
bool LongLine(SessionInput& in, Rng& rng, const MutationContext& ctx);
bool Pipeline(SessionInput& in, Rng& rng, const MutationContext& ctx);
bool StartTls(SessionInput& in, Rng& rng, const MutationContext& ctx);
bool Auth(SessionInput& in, Rng& rng, const MutationContext& ctx);
bool Bdat(SessionInput& in, Rng& rng, const MutationContext& ctx);
bool DataBody(SessionInput& in, Rng& rng, const MutationContext& ctx);
bool RawLineEnd(SessionInput& in, Rng& rng, const MutationContext& ctx);
bool Bytes(SessionInput& in, Rng& rng, const MutationContext& ctx);

}  // namespace smtp::fuzz::internal

#endif  // SMTP_FUZZ_NET_MUTATOR_OPS_H_
