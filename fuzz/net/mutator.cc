#include "fuzz/net/mutator.h"

#include <algorithm>
#include <cstring>
#include <iterator>
#include <string>
#include <string_view>

#include "fuzz/net/mutator_grammar.h"
#include "fuzz/net/mutator_ops.h"
#include "parser/command.h"
#include "parser/esmtp_params.h"

namespace smtp::fuzz {
namespace {

constexpr std::size_t kLongSession = 32;

struct OpInfo {
  std::string_view name;
  unsigned weight;  // relative; the structure-keeping operators weigh most
};

// Indexed by MutationOp.
constexpr OpInfo kOpInfo[] = {
    {"insert-step", 6}, {"delete-step", 4}, {"duplicate-step", 3}, {"swap-steps", 2},
    {"move-step", 2},   {"splice", 4},      {"verb", 3},           {"verb-case", 2},
    {"argument", 4},    {"path", 5},        {"mail-param", 6},     {"rcpt-param", 5},
    {"transaction", 8}, {"number", 4},      {"dictionary", 3},     {"smuggle", 4},
    {"long-line", 3},   {"pipeline", 4},    {"starttls", 2},       {"auth", 3},
    {"bdat", 4},        {"data-body", 4},   {"raw-line-end", 2},   {"bytes", 4},
};

static_assert(std::size(kOpInfo) == kMutationOps, "one entry per MutationOp");

constexpr unsigned TotalWeight() {
  unsigned total = 0;
  for (const OpInfo& op : kOpInfo) total += op.weight;
  return total;
}

MutationOp PickOp(Rng& rng) {
  std::size_t r = rng.Below(TotalWeight());
  for (std::size_t i = 0; i < kMutationOps; ++i) {
    if (r < kOpInfo[i].weight) return static_cast<MutationOp>(i);
    r -= kOpInfo[i].weight;
  }
  return MutationOp::kInsertStep;
}

bool Hello(const SessionStep& s) {
  return grammar::IsVerb(s, "EHLO") || grammar::IsVerb(s, "HELO") || grammar::IsVerb(s, "LHLO");
}

bool ParsesStrictly(const SessionStep& s, bool utf8) {
  CommandOptions opts;
  opts.utf8 = utf8;
  return ParseCommand(s.bytes + "\r\n", opts).ok();
}

std::size_t Write(const SessionInput& in, std::uint8_t* out, std::size_t max) {
  const std::string wire = SerializeSessionInput(in);
  const std::size_t n = std::min(wire.size(), max);  // FitToSize made it fit
  if (n != 0) std::memcpy(out, wire.data(), n);
  return n;
}

}  // namespace

std::string_view MutationOpName(MutationOp op) {
  const auto i = static_cast<std::size_t>(op);
  return i < kMutationOps ? kOpInfo[i].name : "unknown";
}

MutationOp Mutate(SessionInput& input, Rng& rng, const MutationContext& ctx) {
  // Most operators add steps; past kLongSession steps, one call in three
  // deletes instead, so sessions stay short and fast to run.
  if (input.steps.size() > kLongSession && rng.OneIn(3) &&
      ApplyMutation(MutationOp::kDeleteStep, input, rng, ctx)) {
    return MutationOp::kDeleteStep;
  }
  for (int attempt = 0; attempt < 16; ++attempt) {
    const MutationOp op = PickOp(rng);
    if (ApplyMutation(op, input, rng, ctx)) return op;
  }
  ApplyMutation(MutationOp::kInsertStep, input, rng, ctx);  // always applies
  return MutationOp::kInsertStep;
}

SessionInput CrossOver(const SessionInput& a, const SessionInput& b, Rng& rng) {
  if (a.steps.empty()) return b;
  if (b.steps.empty()) return a;
  const auto from = [](const SessionInput& x, std::size_t begin, std::size_t end) {
    return std::vector<SessionStep>(x.steps.begin() + static_cast<std::ptrdiff_t>(begin),
                                    x.steps.begin() + static_cast<std::ptrdiff_t>(end));
  };
  const std::optional<Transaction> ta = FindTransaction(a, false);
  const std::optional<Transaction> tb = FindTransaction(b, false);
  SessionInput out;
  if (ta && tb && rng.OneIn(2)) {  // a's greeting and set-up, b's transactions
    out.steps = from(a, 0, ta->mail);
    const auto tail = from(b, tb->mail, b.steps.size());
    out.steps.insert(out.steps.end(), tail.begin(), tail.end());
    return out;
  }
  const std::size_t cut = 1 + rng.Below(a.steps.size());
  const std::size_t start = rng.Below(b.steps.size());
  const std::size_t len = 1 + rng.Below(b.steps.size() - start);
  out.steps = from(a, 0, cut);
  const auto run = from(b, start, start + len);
  out.steps.insert(out.steps.end(), run.begin(), run.end());
  if (rng.OneIn(2)) {
    const auto rest = from(a, cut, a.steps.size());
    out.steps.insert(out.steps.end(), rest.begin(), rest.end());
  }
  return out;
}

void FitToSize(SessionInput& input, std::size_t max_size) {
  if (input.steps.size() > kMaxSteps) input.steps.resize(kMaxSteps);
  for (SessionStep& s : input.steps) {
    if (s.bytes.size() > kMaxStepBytes) s.bytes.resize(kMaxStepBytes);
  }
  for (std::size_t size = internal::SerializedSize(input); size > max_size;
       size = internal::SerializedSize(input)) {
    const std::size_t excess = size - max_size;
    auto largest = std::max_element(
        input.steps.begin(), input.steps.end(),
        [](const SessionStep& x, const SessionStep& y) { return x.bytes.size() < y.bytes.size(); });
    // A long payload (a body, a padded line) is cut, to 16 octets at the
    // least so a command keeps its verb; else the last step outside the
    // first transaction goes; else a shorter payload is cut; else the last
    // step goes.
    const std::size_t cut_to =
        largest->bytes.size() >= excess + 16 ? largest->bytes.size() - excess : 0;
    if (cut_to != 0 && largest->bytes.size() >= 64) {
      largest->bytes.resize(cut_to);
      continue;
    }
    const std::optional<Transaction> t = FindTransaction(input, false);
    std::size_t drop = input.steps.size();
    while (drop > 0 && internal::InTransaction(t, drop - 1)) --drop;
    if (drop == 0 && cut_to != 0) {
      largest->bytes.resize(cut_to);
      continue;
    }
    drop = drop == 0 ? input.steps.size() - 1 : drop - 1;
    input.steps.erase(input.steps.begin() + static_cast<std::ptrdiff_t>(drop));
  }
}

SessionInput MakeTypicalSession(unsigned seed) {
  Rng rng(seed);
  SessionInput in;
  const auto add = [&](StepKind kind, std::string bytes) {
    in.steps.push_back({kind, std::move(bytes), false, false});
  };
  add(StepKind::kCommand, rng.OneIn(8) ? "HELO client.example" : "EHLO client.example");
  if (rng.OneIn(8)) {
    add(StepKind::kStartTls, "");
    add(StepKind::kCommand, "EHLO client.example");
  }
  if (rng.OneIn(6)) {
    add(StepKind::kCommand,
        "AUTH PLAIN " + grammar::Base64(std::string_view("\0user\0secret", 12)));
  }
  std::string mail = "MAIL FROM:<sender@example.org>";
  if (rng.OneIn(2)) mail += " SIZE=" + std::to_string(100 + rng.Below(10000));
  if (rng.OneIn(3)) mail += " BODY=8BITMIME";
  add(StepKind::kCommand, mail);
  const std::size_t first_rcpt = in.steps.size();
  for (std::size_t n = 1 + rng.Below(3), k = 0; k < n; ++k) {
    std::string rcpt = "RCPT TO:<rcpt" + std::to_string(k) + "@example.org>";
    if (rng.OneIn(4)) rcpt += " NOTIFY=SUCCESS,FAILURE";
    add(StepKind::kCommand, rcpt);
  }
  if (rng.OneIn(4)) {
    const std::string body = grammar::Body(rng);
    const std::size_t half = rng.Below(body.size() + 1);
    if (rng.OneIn(2)) add(StepKind::kBdat, body.substr(0, half));
    add(StepKind::kBdat, body.substr(in.steps.back().kind == StepKind::kBdat ? half : 0));
    in.steps.back().last = true;
  } else {
    add(StepKind::kData, grammar::Body(rng));
  }
  if (rng.OneIn(3)) {  // RFC 2920: RCPT... and DATA in the MAIL's write
    for (std::size_t i = first_rcpt; i < in.steps.size(); ++i) in.steps[i].pipelined = true;
  }
  if (rng.OneIn(2)) add(StepKind::kCommand, "QUIT");
  return in;
}

std::size_t MutateSession(std::uint8_t* data, std::size_t size, std::size_t max_size, unsigned seed,
                          const MutatorOptions& options, ByteMutator byte_mutator) {
  Rng rng(seed);
  SessionInput in = ParseSessionInput(
      std::string_view(reinterpret_cast<const char*>(data), std::min(size, max_size)));
  const MutationContext ctx{&options, byte_mutator, nullptr, max_size};
  if (in.steps.empty()) {
    in = MakeTypicalSession(seed);
    if (rng.OneIn(2)) Mutate(in, rng, ctx);
  } else {
    int n = 1;
    while (n < options.max_stacked && rng.OneIn(2)) ++n;
    for (int i = 0; i < n; ++i) Mutate(in, rng, ctx);
  }
  FitToSize(in, max_size);
  return Write(in, data, max_size);
}

std::size_t CrossOverSessions(const std::uint8_t* a, std::size_t a_size, const std::uint8_t* b,
                              std::size_t b_size, std::uint8_t* out, std::size_t max_out,
                              unsigned seed) {
  Rng rng(seed);
  SessionInput x = ParseSessionInput(std::string_view(reinterpret_cast<const char*>(a), a_size));
  SessionInput y = ParseSessionInput(std::string_view(reinterpret_cast<const char*>(b), b_size));
  if (x.steps.empty()) x = MakeTypicalSession(seed);
  if (y.steps.empty()) y = MakeTypicalSession(seed + 1);
  SessionInput z = CrossOver(x, y, rng);
  FitToSize(z, max_out);
  return Write(z, out, max_out);
}

std::optional<Transaction> FindTransaction(const SessionInput& input, bool strict) {
  Transaction t;
  int stage = 0;
  bool utf8 = false;
  for (std::size_t i = 0; i < input.steps.size(); ++i) {
    const SessionStep& s = input.steps[i];
    switch (stage) {
      case 0:
        if (Hello(s) && (!strict || ParsesStrictly(s, false))) {
          t.hello = i;
          stage = 1;
        }
        break;
      case 1:
        if (grammar::IsVerb(s, "MAIL") && (!strict || ParsesStrictly(s, false))) {
          t.mail = i;
          utf8 = HasSmtputf8Param(s.bytes);
          stage = 2;
        }
        break;
      case 2:
        if (grammar::IsVerb(s, "RCPT") && (!strict || ParsesStrictly(s, utf8))) {
          t.rcpt = i;
          stage = 3;
        }
        break;
      default:
        if (s.kind == StepKind::kData || s.kind == StepKind::kBdat ||
            ((grammar::IsVerb(s, "DATA") || grammar::IsVerb(s, "BDAT")) &&
             (!strict || ParsesStrictly(s, false)))) {
          t.data = i;
          return t;
        }
        break;
    }
  }
  return std::nullopt;
}

}  // namespace smtp::fuzz
