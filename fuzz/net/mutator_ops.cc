// The session mutator's operators (MutationOp), one small function each,
// and ApplyMutation, which dispatches to them: the step and command
// operators here, the wire-level ones in mutator_wire_ops.cc. The driver,
// crossover and size fitting are in mutator.cc.
#include <algorithm>
#include <cstddef>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/net/mutator.h"
#include "fuzz/net/mutator_grammar.h"
#include "fuzz/net/mutator_ops.h"
#include "parser/ascii.h"
#include "parser/command.h"
#include "parser/limits.h"

namespace smtp::fuzz {
namespace {

using namespace internal;  // NOLINT: the operators' helpers

// A transaction a server should accept, for sessions that have none.
Steps ValidTransaction(Rng& rng) {
  Steps t{Command("MAIL FROM:<sender@example.org>"), Command("RCPT TO:<rcpt@example.org>")};
  t.push_back({StepKind::kData, grammar::Body(rng)});
  return t;
}

// "MAIL FROM:<a@b> SIZE=1" as head "MAIL FROM:", path "<a@b>", parameters.
struct PathLine {
  std::string head, path;
  std::vector<std::string> params;
};

bool SplitPathLine(std::string_view line, PathLine* out) {
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return false;
  out->head = line.substr(0, colon + 1);
  std::string_view rest = line.substr(colon + 1);
  std::size_t end = rest.find(' ');
  if (!rest.empty() && rest[0] == '<' && rest.find('>') != std::string_view::npos) {
    end = rest.find('>') + 1;
  }
  out->path = rest.substr(0, end);
  rest = end < rest.size() ? rest.substr(end) : std::string_view();
  while (!rest.empty()) {
    const std::size_t start = rest.find_first_not_of(' ');
    if (start == std::string_view::npos) break;
    rest.remove_prefix(start);
    const std::size_t stop = std::min(rest.find(' '), rest.size());
    out->params.emplace_back(rest.substr(0, stop));
    rest.remove_prefix(stop);
  }
  return true;
}

std::string JoinPathLine(const PathLine& p) {
  std::string out = p.head + p.path;
  for (const std::string& param : p.params) out += " " + param;
  return out;
}

// --- Step operators ---------------------------------------------------------

bool InsertStep(SessionInput& in, Rng& rng, const MutationContext&) {
  if (!FindTransaction(in, /*strict=*/true) && rng.OneIn(2)) {
    // Make the session deep again: a valid EHLO first, a valid transaction
    // after it (what other operators broke stays, behind it).
    if (in.steps.empty() || !grammar::IsVerb(in.steps[0], "EHLO") ||
        !ParseCommand(in.steps[0].bytes + "\r\n").ok()) {
      Insert(in, 0, {Command("EHLO client.example")});
    }
    Insert(in, AfterHello(in), ValidTransaction(rng));
    return true;
  }
  if (rng.OneIn(4)) {
    Steps t{Command(grammar::CommandFor("MAIL", rng))};
    for (std::size_t n = 1 + rng.Below(3); n > 0; --n) {
      t.push_back(Command(grammar::CommandFor("RCPT", rng)));
    }
    t.push_back({StepKind::kData, grammar::Body(rng)});
    Insert(in, InsertPosition(in, rng), std::move(t));
    return true;
  }
  Insert(in, InsertPosition(in, rng), {Command(grammar::AnyCommand(rng))});
  return true;
}

bool DeleteStep(SessionInput& in, Rng& rng, const MutationContext&) {
  const std::size_t i = PickStep(in, rng, true);
  if (i == kNone) return false;
  // One step, or a run of up to four.
  const std::size_t n =
      rng.OneIn(4) ? std::min<std::size_t>(1 + rng.Below(4), in.steps.size() - i) : 1;
  in.steps.erase(in.steps.begin() + static_cast<std::ptrdiff_t>(i),
                 in.steps.begin() + static_cast<std::ptrdiff_t>(i + n));
  return true;
}

bool DuplicateStep(SessionInput& in, Rng& rng, const MutationContext& ctx) {
  const std::size_t i = PickStep(in, rng, false);
  if (i == kNone || in.steps[i].bytes.size() + 8 > Budget(in, ctx)) return false;
  SessionStep copy = in.steps[i];
  Insert(in, rng.OneIn(2) ? i + 1 : InsertPosition(in, rng), {std::move(copy)});
  return true;
}

bool SwapSteps(SessionInput& in, Rng& rng, const MutationContext&) {
  if (in.steps.size() < 2) return false;
  const std::size_t i = PickStep(in, rng, true);
  const std::size_t j = i + 1 < in.steps.size() ? i + 1 : i - 1;
  std::swap(in.steps[i], in.steps[j]);
  return true;
}

bool MoveStep(SessionInput& in, Rng& rng, const MutationContext&) {
  if (in.steps.size() < 2) return false;
  const std::size_t i = PickStep(in, rng, true);
  SessionStep s = std::move(in.steps[i]);
  in.steps.erase(in.steps.begin() + static_cast<std::ptrdiff_t>(i));
  Insert(in, InsertPosition(in, rng), {std::move(s)});
  return true;
}

bool Splice(SessionInput& in, Rng& rng, const MutationContext& ctx) {
  if (ctx.other == nullptr || ctx.other->steps.empty()) return false;
  const Steps& from = ctx.other->steps;
  const std::size_t start = rng.Below(from.size());
  const std::size_t len = 1 + rng.Below(std::min<std::size_t>(4, from.size() - start));
  Insert(in, InsertPosition(in, rng),
         Steps(from.begin() + static_cast<std::ptrdiff_t>(start),
               from.begin() + static_cast<std::ptrdiff_t>(start + len)));
  return true;
}

// --- Command operators ------------------------------------------------------

bool ChangeVerb(SessionInput& in, Rng& rng, const MutationContext&) {
  const std::size_t i = PickStep(in, rng, true, IsCommand);
  if (i == kNone) return false;
  std::string& line = in.steps[i].bytes;
  line.replace(0, grammar::FirstWord(line).size(), grammar::Verb(rng));
  return true;
}

bool ChangeVerbCase(SessionInput& in, Rng& rng, const MutationContext&) {
  const std::size_t i = PickStep(in, rng, false, IsCommand);
  if (i == kNone) return false;
  std::string& line = in.steps[i].bytes;
  const std::size_t n = grammar::FirstWord(line).size();
  line.replace(0, n, grammar::ChangeCase(line.substr(0, n), rng));
  const std::size_t colon = line.find(':');
  const bool path_line = IsMail(in.steps[i]) || IsRcpt(in.steps[i]);
  if (path_line && rng.OneIn(3) && colon != std::string::npos && colon > n) {  // "from:", "To:"
    line.replace(n + 1, colon - n, grammar::ChangeCase(line.substr(n + 1, colon - n), rng));
  }
  return true;
}

bool ChangeArgument(SessionInput& in, Rng& rng, const MutationContext&) {
  const std::size_t i = PickStep(in, rng, false, [](const SessionStep& s) {
    return IsCommand(s) && !IsMail(s) && !IsRcpt(s);
  });
  if (i == kNone) return false;
  std::string& line = in.steps[i].bytes;
  const std::string verb(grammar::FirstWord(line));
  std::string fresh = grammar::CommandFor(ToUpperCopy(verb), rng);
  if (fresh.size() == verb.size() && rng.OneIn(2)) {  // a bare verb: give it something
    fresh += " " + (rng.OneIn(2) ? grammar::Domain(rng) : grammar::Mailbox(rng));
  }
  line = verb + fresh.substr(verb.size());
  return true;
}

bool ChangePath(SessionInput& in, Rng& rng, const MutationContext&) {
  const std::size_t i =
      PickStep(in, rng, false, [](const SessionStep& s) { return IsMail(s) || IsRcpt(s); });
  PathLine p;
  if (i == kNone || !SplitPathLine(in.steps[i].bytes, &p)) return false;
  p.path = grammar::Path(rng, IsMail(in.steps[i]));
  in.steps[i].bytes = JoinPathLine(p);
  return true;
}

bool ChangeParams(SessionInput& in, Rng& rng, bool mail) {
  const std::size_t i = PickStep(in, rng, false, mail ? IsMail : IsRcpt);
  PathLine p;
  if (i == kNone || !SplitPathLine(in.steps[i].bytes, &p)) return false;
  const bool own = !rng.OneIn(8);  // else the other command's parameter
  const std::string fresh = own == mail ? grammar::MailParam(rng) : grammar::RcptParam(rng);
  auto& params = p.params;
  const std::size_t at = rng.Below(params.size());
  switch (params.empty() ? 0 : rng.Below(5)) {
    case 0:
    case 1:
      params.insert(params.begin() + static_cast<std::ptrdiff_t>(rng.Below(params.size() + 1)),
                    fresh);
      break;
    case 2:
      params[at] = fresh;
      break;
    case 3:
      params.erase(params.begin() + static_cast<std::ptrdiff_t>(at));
      break;
    default:  // a duplicate, or the keyword in another case
      if (rng.OneIn(2)) {
        params.push_back(params[at]);
      } else {
        params[at] = grammar::ChangeCase(params[at], rng);
      }
      break;
  }
  in.steps[i].bytes = JoinPathLine(p);
  return true;
}

bool ChangeMailParam(SessionInput& in, Rng& rng, const MutationContext&) {
  return ChangeParams(in, rng, true);
}

bool ChangeRcptParam(SessionInput& in, Rng& rng, const MutationContext&) {
  return ChangeParams(in, rng, false);
}

// --- Transaction operator ---------------------------------------------------
//
// A server's deep states sit at the end of a valid transaction (EHLO, MAIL
// with parameters, RCPTs with parameters, then DATA or BDAT), and reaching
// the next one usually takes one more valid step exactly there. The
// operators above act at random positions; this one finds a transaction and
// changes it so that it stays valid.

// A mail transaction as the session sends it: its MAIL, the RCPTs after it,
// and the step that ends it (a body step, or a DATA or BDAT command), kNone
// when none does. A hello, RSET or STARTTLS ends it without a body.
struct Span {
  std::size_t mail = kNone, end = kNone;
  std::vector<std::size_t> rcpts;
};

bool EndsEnvelope(const SessionStep& s) {
  return s.kind == StepKind::kStartTls || grammar::IsVerb(s, "EHLO") ||
         grammar::IsVerb(s, "HELO") || grammar::IsVerb(s, "LHLO") || grammar::IsVerb(s, "RSET");
}

std::vector<Span> Spans(const SessionInput& in) {
  std::vector<Span> out;
  bool open = false;
  for (std::size_t i = 0; i < in.steps.size(); ++i) {
    const SessionStep& s = in.steps[i];
    if (IsMail(s)) {
      out.push_back({i, kNone, {}});
      open = true;
    } else if (!open) {
      continue;
    } else if (IsRcpt(s)) {
      out.back().rcpts.push_back(i);
    } else if (IsBody(s) || grammar::IsVerb(s, "DATA") || grammar::IsVerb(s, "BDAT")) {
      out.back().end = i;
      open = false;
    } else if (EndsEnvelope(s)) {
      open = false;
    }
  }
  return out;
}

// The parameter keyword of "KEY=value" or "KEY", upper-cased.
std::string ParamKeyword(std::string_view param) {
  return ToUpperCopy(param.substr(0, std::min(param.find('='), param.size())));
}

// Sets `fresh` on the MAIL or RCPT line `line`, replacing a parameter with
// the same keyword (servers reject a repeated one).
bool SetValidParam(std::string& line, const std::string& fresh) {
  PathLine p;
  if (!SplitPathLine(line, &p)) return false;
  const std::string key = ParamKeyword(fresh);
  std::erase_if(p.params, [&](const std::string& x) { return ParamKeyword(x) == key; });
  p.params.push_back(fresh);
  line = JoinPathLine(p);
  return true;
}

bool ChangeTransaction(SessionInput& in, Rng& rng, const MutationContext& ctx) {
  const std::vector<Span> spans = Spans(in);
  if (spans.empty()) return false;
  const Span& t = spans[rng.Below(spans.size())];
  const std::size_t tail = t.rcpts.empty() ? t.mail : t.rcpts.back();
  switch (rng.Below(5)) {
    case 0: {  // one more recipient, right after the last: a copy or a fresh one
      std::string line = !t.rcpts.empty() && rng.OneIn(2)
                             ? in.steps[t.rcpts[rng.Below(t.rcpts.size())]].bytes
                             : "RCPT TO:<rcpt" + std::to_string(t.rcpts.size()) + "@example.org>";
      if (rng.OneIn(2)) SetValidParam(line, grammar::ValidRcptParam(rng));
      const bool grouped = tail + 1 < in.steps.size() && in.steps[tail + 1].pipelined;
      Insert(in, tail + 1, {Command(std::move(line), grouped)});
      return true;
    }
    case 1:
    case 2: {  // a valid parameter on the MAIL or on one RCPT
      const bool mail = t.rcpts.empty() || rng.OneIn(2);
      const std::size_t i = mail ? t.mail : t.rcpts[rng.Below(t.rcpts.size())];
      return SetValidParam(in.steps[i].bytes,
                           mail ? grammar::ValidMailParam(rng) : grammar::ValidRcptParam(rng));
    }
    case 3: {  // another end: DATA, one BDAT LAST, an empty BDAT LAST, two chunks
      const bool had_body = t.end != kNone && IsBody(in.steps[t.end]);
      const std::string body = had_body ? in.steps[t.end].bytes : grammar::Body(rng);
      if (!had_body && body.size() + 8 > Budget(in, ctx)) return false;
      Steps end;
      switch (rng.Below(4)) {
        case 0:
          end.push_back({StepKind::kData, body, false, false});
          break;
        case 1:
          end.push_back({StepKind::kBdat, body, false, true});
          break;
        case 2:
          end.push_back({StepKind::kBdat, "", false, true});
          break;
        default: {
          const std::size_t half = rng.Below(body.size() + 1);
          end.push_back({StepKind::kBdat, body.substr(0, half), false, false});
          end.push_back({StepKind::kBdat, body.substr(half), false, true});
          break;
        }
      }
      std::size_t at = tail + 1;
      if (t.end != kNone) {
        end.front().pipelined = in.steps[t.end].pipelined;
        in.steps.erase(in.steps.begin() + static_cast<std::ptrdiff_t>(t.end));
        at = t.end;
      }
      Insert(in, at, std::move(end));
      return true;
    }
    default: {  // only the envelope: drop what came between MAIL, RCPTs and end
      const std::size_t last = t.end != kNone ? t.end : tail;
      bool dropped = false;
      for (std::size_t i = last; i-- > t.mail + 1;) {
        if (std::find(t.rcpts.begin(), t.rcpts.end(), i) != t.rcpts.end()) continue;
        in.steps.erase(in.steps.begin() + static_cast<std::ptrdiff_t>(i));
        dropped = true;
      }
      return dropped;
    }
  }
}

bool ChangeNumber(SessionInput& in, Rng& rng, const MutationContext& ctx) {
  struct Run {
    std::size_t step, at, len;
  };
  std::vector<Run> runs;
  for (std::size_t i = 0; i < in.steps.size(); ++i) {
    const std::string& b = in.steps[i].bytes;
    if (!IsCommand(in.steps[i])) continue;
    for (std::size_t j = 0; j < b.size();) {
      if (!IsDigit(b[j])) {
        ++j;
        continue;
      }
      std::size_t k = j;
      while (k < b.size() && IsDigit(b[k])) ++k;
      runs.push_back({i, j, k - j});
      j = k;
    }
  }
  if (runs.empty() || rng.OneIn(4)) {  // a BDAT chunk of a boundary size
    const std::size_t i =
        PickStep(in, rng, false, [](const SessionStep& s) { return s.kind == StepKind::kBdat; });
    if (i == kNone) {
      if (runs.empty()) return false;
    } else {
      static constexpr std::size_t kSizes[] = {0, 1, 2, 511, 512, 999, 1000, 1001, 4096};
      const std::size_t want = rng.Pick(kSizes);
      std::string& b = in.steps[i].bytes;
      if (want > b.size() + Budget(in, ctx)) return false;
      b.resize(want, 'c');
      return true;
    }
  }
  const Run& r = runs[rng.Below(runs.size())];
  in.steps[r.step].bytes.replace(r.at, r.len, grammar::Number(rng));
  return true;
}

bool InsertToken(SessionInput& in, Rng& rng, const MutationContext& ctx) {
  const auto& builtin = grammar::BuiltinTokens();
  const std::size_t extra = ctx.options != nullptr ? ctx.options->dictionary.size() : 0;
  const std::size_t k = rng.Below(builtin.size() + extra);
  const std::string token =
      k < extra ? ctx.options->dictionary[k] : std::string(builtin[k - extra]);
  if (token.size() > Budget(in, ctx)) return false;
  const std::size_t i = PickStep(in, rng, false, IsCommand);
  if (i == kNone || rng.OneIn(6)) {  // the token as a command of its own
    Insert(in, InsertPosition(in, rng), {Command(token)});
    return true;
  }
  std::string& line = in.steps[i].bytes;
  const std::size_t at = rng.Below(line.size() + 1);
  if (rng.OneIn(3)) {  // replace the word at `at`
    const std::size_t start = line.rfind(' ', at == 0 ? 0 : at - 1);
    const std::size_t from = start == std::string::npos ? 0 : start + 1;
    const std::size_t stop = std::min(line.find(' ', from), line.size());
    line.replace(from, stop - from, token);
  } else {
    line.insert(at, token);
  }
  return true;
}

using OpFn = bool (*)(SessionInput&, Rng&, const MutationContext&);

constexpr OpFn kOps[] = {
    InsertStep,        DeleteStep,     DuplicateStep,  SwapSteps,  MoveStep,        Splice,
    ChangeVerb,        ChangeVerbCase, ChangeArgument, ChangePath, ChangeMailParam, ChangeRcptParam,
    ChangeTransaction, ChangeNumber,   InsertToken,    Smuggle,    LongLine,        Pipeline,
    StartTls,          Auth,           Bdat,           DataBody,   RawLineEnd,      Bytes,
};

static_assert(std::size(kOps) == kMutationOps, "one function per MutationOp");

}  // namespace

bool ApplyMutation(MutationOp op, SessionInput& input, Rng& rng, const MutationContext& ctx) {
  const auto i = static_cast<std::size_t>(op);
  return i < kMutationOps && kOps[i](input, rng, ctx);
}

}  // namespace smtp::fuzz
