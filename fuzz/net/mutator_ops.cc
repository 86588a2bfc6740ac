// The session mutator's operators (MutationOp), one small function each,
// and ApplyMutation, which dispatches to them. The driver, crossover and
// size fitting are in mutator.cc.
#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/net/mutator.h"
#include "fuzz/net/mutator_grammar.h"
#include "parser/ascii.h"
#include "parser/limits.h"

namespace smtp::fuzz {
namespace {

using Steps = std::vector<SessionStep>;
constexpr std::size_t kNone = static_cast<std::size_t>(-1);

SessionStep Command(std::string line, bool pipelined = false) {
  return {StepKind::kCommand, std::move(line), pipelined, false};
}

std::size_t SerializedSize(const SessionInput& in) {
  std::size_t n = 0;
  for (const SessionStep& s : in.steps) {
    n += 2 + s.bytes.size();
    for (std::size_t len = s.bytes.size() >> 7; len != 0; len >>= 7) ++n;
  }
  return n;
}

// Octets the operators may still add without going over ctx.max_size.
std::size_t Budget(const SessionInput& in, const MutationContext& ctx) {
  const std::size_t used = SerializedSize(in);
  return ctx.max_size > used ? ctx.max_size - used : 0;
}

bool InTransaction(const std::optional<Transaction>& t, std::size_t i) {
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

std::size_t PickStep(const SessionInput& in, Rng& rng, bool spare) {
  return PickStep(in, rng, spare, [](const SessionStep&) { return true; });
}

bool IsCommand(const SessionStep& s) { return s.kind == StepKind::kCommand; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsMail(const SessionStep& s) { return grammar::IsVerb(s, "MAIL"); }
bool IsRcpt(const SessionStep& s) { return grammar::IsVerb(s, "RCPT"); }
bool IsBody(const SessionStep& s) { return s.kind == StepKind::kData || s.kind == StepKind::kBdat; }

// Where a new step goes: mostly after the first step (so an EHLO stays
// first), anywhere otherwise.
std::size_t InsertPosition(const SessionInput& in, Rng& rng) {
  if (in.steps.empty()) return 0;
  return rng.OneIn(8) ? rng.Below(in.steps.size() + 1) : 1 + rng.Below(in.steps.size());
}

// Just after the hello (and a STARTTLS and EHLO right behind it), for AUTH.
std::size_t AfterHello(const SessionInput& in) {
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

void Insert(SessionInput& in, std::size_t at, Steps steps) {
  in.steps.insert(in.steps.begin() + static_cast<std::ptrdiff_t>(at),
                  std::make_move_iterator(steps.begin()), std::make_move_iterator(steps.end()));
}

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
  if (!FindTransaction(in, false) && rng.OneIn(2)) {  // make a session deep again
    if (in.steps.empty() || !grammar::IsVerb(in.steps[0], "EHLO")) {
      Insert(in, 0, {Command("EHLO client.example")});
    }
    Insert(in, AfterHello(in), ValidTransaction(rng));
    return true;
  }
  if (rng.OneIn(4)) {
    Steps t{Command(grammar::CommandFor("MAIL", rng))};
    for (std::size_t n = 1 + rng.Below(3); n > 0; --n)
      t.push_back(Command(grammar::CommandFor("RCPT", rng)));
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
  in.steps.erase(in.steps.begin() + static_cast<std::ptrdiff_t>(i));
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
  if (rng.OneIn(3) && colon != std::string::npos && colon > n) {  // "from:" / "To:"
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

// --- Wire-level operators ---------------------------------------------------

// An end-of-data look-alike followed by more commands, in a data step's body
// (sent dot-stuffed), in a raw step after a DATA command, or in a BDAT chunk.
bool Smuggle(SessionInput& in, Rng& rng, const MutationContext& ctx) {
  const std::string payload =
      std::string(grammar::SmuggleSequence(rng)) + grammar::SmuggledCommands(rng);
  if (payload.size() + 64 > Budget(in, ctx)) return false;
  std::size_t i = PickStep(in, rng, false, IsBody);
  if (i == kNone) {  // none yet: a DATA after the first RCPT, or at the end
    i = InsertPosition(in, rng);
    for (std::size_t j = 0; j < in.steps.size(); ++j) {
      if (IsRcpt(in.steps[j])) {
        i = j + 1;
        break;
      }
    }
    Insert(in, i, {{StepKind::kData, "Subject: s\r\n\r\nbody"}});
  }
  SessionStep& s = in.steps[i];
  switch (rng.Below(3)) {
    case 0:  // at the end of the body
      s.bytes += payload;
      break;
    case 1: {  // after one of its lines
      const std::size_t p = s.bytes.find("\r\n", rng.Below(s.bytes.size() + 1));
      s.bytes.insert(p == std::string::npos ? s.bytes.size() : p + 2, payload);
      break;
    }
    default: {  // "DATA" then the body raw, ended by CRLF "." CRLF
      std::string raw = s.bytes + payload + "\r\n.\r\n";
      const bool pipelined = s.pipelined;
      s = {StepKind::kRaw, std::move(raw), rng.OneIn(4), false};
      Insert(in, i, {Command("DATA", pipelined)});
      break;
    }
  }
  return true;
}

bool LongLine(SessionInput& in, Rng& rng, const MutationContext& ctx) {
  const std::size_t budget = Budget(in, ctx);
  static constexpr std::ptrdiff_t kDeltas[] = {-1, 0, 1, 2, 3, 17, 100};
  const std::ptrdiff_t delta = rng.Pick(kDeltas);
  switch (rng.Below(3)) {
    case 0: {  // a command line around the 512-octet limit (CRLF included)
      const std::size_t want = static_cast<std::size_t>(kMaxCommandLine - 2 + delta);
      const std::size_t i = PickStep(in, rng, false, IsCommand);
      if (i == kNone || in.steps[i].bytes.size() >= want) return false;
      std::string& line = in.steps[i].bytes;
      const std::size_t pad = want - line.size();
      if (pad > budget) return false;
      if ((IsMail(in.steps[i]) || IsRcpt(in.steps[i])) && pad > 8) {
        line += " X-PAD=" + std::string(pad - 7, 'x');
      } else {
        line += " " + std::string(pad - 1, 'x');
      }
      return true;
    }
    case 1: {  // a body line around the 1000-octet limit
      const std::size_t len = static_cast<std::size_t>(kMaxTextLine - 2 + delta);
      const std::size_t i = PickStep(in, rng, false, IsBody);
      if (i == kNone || len + 2 > budget) return false;
      std::string& body = in.steps[i].bytes;
      const std::size_t at = body.find("\r\n");
      body.insert(at == std::string::npos ? body.size() : at + 2, std::string(len, 'b') + "\r\n");
      return true;
    }
    default: {  // raw: a long line with no line end, or one just over 512
      const std::size_t len = static_cast<std::size_t>(kMaxCommandLine + delta);
      if (len + 8 > budget) return false;
      std::string raw = "NOOP " + std::string(len - 5, 'n');
      if (rng.OneIn(2)) raw += "\r\n";
      Insert(in, InsertPosition(in, rng), {{StepKind::kRaw, std::move(raw)}});
      return true;
    }
  }
}

bool Pipeline(SessionInput& in, Rng& rng, const MutationContext&) {
  if (in.steps.empty()) return false;
  switch (rng.Below(6)) {
    case 0: {  // toggle one step
      SessionStep& s = in.steps[rng.Below(in.steps.size())];
      s.pipelined = !s.pipelined;
      return true;
    }
    case 1: {  // clear every bit, or set every bit after the first step
      const bool set = rng.OneIn(2);
      for (std::size_t i = 1; i < in.steps.size(); ++i) in.steps[i].pipelined = set;
      return true;
    }
    default: {  // an RFC 2920 group: MAIL, RCPT..., DATA/BDAT
      std::size_t i = PickStep(in, rng, false, IsMail);
      if (i == kNone) i = rng.Below(in.steps.size());
      if (rng.OneIn(4)) in.steps[i].pipelined = true;
      for (std::size_t j = i + 1; j < in.steps.size(); ++j) {
        const SessionStep& s = in.steps[j];
        if (!IsRcpt(s) && !IsBody(s) && !IsMail(s) && !grammar::IsVerb(s, "DATA") &&
            !grammar::IsVerb(s, "BDAT")) {
          break;
        }
        in.steps[j].pipelined = true;
      }
      return true;
    }
  }
}

bool StartTls(SessionInput& in, Rng& rng, const MutationContext&) {
  std::size_t hello = AfterHello(in);
  switch (rng.Below(5)) {
    case 0:
    case 1: {  // STARTTLS after EHLO, and EHLO again over TLS
      Steps s{{StepKind::kStartTls, ""}};
      if (!rng.OneIn(4)) s.push_back(Command("EHLO client.example"));
      Insert(in, hello, std::move(s));
      return true;
    }
    case 2:
      Insert(in, InsertPosition(in, rng), {{StepKind::kStartTls, ""}});
      return true;
    case 3:  // plaintext command injection (CVE-2011-0411): a command behind STARTTLS
      Insert(in, hello, {{StepKind::kRaw, "STARTTLS\r\n" + grammar::AnyCommand(rng) + "\r\n"}});
      return true;
    default:
      Insert(in, hello, {Command(rng.OneIn(2) ? "STARTTLS junk" : "starttls")});
      return true;
  }
}

bool Auth(SessionInput& in, Rng& rng, const MutationContext&) {
  Steps exchange = grammar::AuthExchange(rng);
  if (rng.OneIn(8)) {  // continuation lines pipelined, before the 334 came
    for (std::size_t i = 1; i < exchange.size(); ++i) exchange[i].pipelined = true;
  }
  Insert(in, rng.OneIn(4) ? InsertPosition(in, rng) : AfterHello(in), std::move(exchange));
  return true;
}

bool Bdat(SessionInput& in, Rng& rng, const MutationContext& ctx) {
  const std::size_t d =
      PickStep(in, rng, false, [](const SessionStep& s) { return s.kind == StepKind::kData; });
  const std::size_t b =
      PickStep(in, rng, false, [](const SessionStep& s) { return s.kind == StepKind::kBdat; });
  switch (rng.Below(4)) {
    case 0: {  // DATA becomes 1-3 chunks, LAST on the final one (mostly)
      if (d == kNone) break;
      const std::string body = in.steps[d].bytes;
      const std::size_t n = 1 + rng.Below(3);
      Steps chunks;
      for (std::size_t k = 0, at = 0; k < n; ++k) {
        const std::size_t stop = k + 1 == n ? body.size() : at + rng.Below(body.size() - at + 1);
        chunks.push_back({StepKind::kBdat, body.substr(at, stop - at), k > 0 && rng.OneIn(2),
                          k + 1 == n ? !rng.OneIn(8) : rng.OneIn(8)});
        at = stop;
      }
      chunks[0].pipelined = in.steps[d].pipelined;
      in.steps.erase(in.steps.begin() + static_cast<std::ptrdiff_t>(d));
      Insert(in, d, std::move(chunks));
      return true;
    }
    case 1:  // toggle LAST, or an empty chunk
      if (b == kNone) break;
      if (rng.OneIn(2)) {
        in.steps[b].last = !in.steps[b].last;
      } else {
        in.steps[b].bytes.clear();
      }
      return true;
    case 2: {  // "BDAT n" with a chunk of another size, sent raw
      const std::string chunk = d != kNone ? in.steps[d].bytes : "chunk";
      if (chunk.size() + 32 > Budget(in, ctx)) return false;
      const std::size_t declared =
          rng.OneIn(2) ? chunk.size() + 1
                       : chunk.size() - std::min<std::size_t>(chunk.size(), 1 + rng.Below(3));
      Steps s{Command("BDAT " + std::to_string(declared) + (rng.OneIn(2) ? " LAST" : "")),
              {StepKind::kRaw, chunk}};
      const std::size_t at = d != kNone ? d : InsertPosition(in, rng);
      if (d != kNone) in.steps.erase(in.steps.begin() + static_cast<std::ptrdiff_t>(d));
      Insert(in, at, std::move(s));
      return true;
    }
    default:
      break;
  }
  // A chunk after an existing one, or a whole last chunk.
  const std::size_t at = b != kNone ? b + 1 : InsertPosition(in, rng);
  Insert(in, at, {{StepKind::kBdat, rng.OneIn(2) ? "" : grammar::Body(rng), rng.OneIn(3), true}});
  return true;
}

bool DataBody(SessionInput& in, Rng& rng, const MutationContext& ctx) {
  const std::size_t i = PickStep(in, rng, false, IsBody);
  if (i == kNone) return false;
  std::string& body = in.steps[i].bytes;
  switch (rng.Below(5)) {
    case 0: {  // a line of the grammar at a line start
      const std::string line = grammar::BodyLine(rng) + "\r\n";
      if (line.size() > Budget(in, ctx)) return false;
      std::vector<std::size_t> starts{0};
      for (std::size_t p = body.find("\r\n"); p != std::string::npos;
           p = body.find("\r\n", p + 2)) {
        starts.push_back(p + 2);
      }
      body.insert(starts[rng.Below(starts.size())], line);
      return true;
    }
    case 1:  // no final line end, or no body at all
      if (rng.OneIn(2) && body.size() >= 2 && body.ends_with("\r\n")) {
        body.resize(body.size() - 2);
      } else {
        body.clear();
      }
      return true;
    case 2: {  // an 8-bit octet or a NUL
      if (body.empty()) return false;
      body[rng.Below(body.size())] = rng.OneIn(4) ? '\0' : static_cast<char>(0x80 | rng.Below(128));
      return true;
    }
    case 3: {  // many short lines, some starting with '.'
      const std::size_t n = std::min<std::size_t>(1 + rng.Below(200), Budget(in, ctx) / 4);
      if (n == 0) return false;
      for (std::size_t k = 0; k < n; ++k) body += rng.OneIn(4) ? ".\r\n" : "a\r\n";
      return true;
    }
    default: {  // one CRLF becomes a bare LF or a bare CR
      const std::size_t p = body.find("\r\n", rng.Below(body.size() + 1));
      if (p == std::string::npos) return false;
      body.erase(rng.OneIn(2) ? p : p + 1, 1);
      return true;
    }
  }
}

bool RawLineEnd(SessionInput& in, Rng& rng, const MutationContext&) {
  const std::size_t i = PickStep(in, rng, true, IsCommand);
  if (i == kNone) return false;
  SessionStep& s = in.steps[i];
  if (rng.OneIn(4) && i + 1 < in.steps.size() && IsCommand(in.steps[i + 1])) {
    // Two commands in one write, as one raw step.
    s = {StepKind::kRaw, s.bytes + "\r\n" + in.steps[i + 1].bytes + "\r\n", s.pipelined, false};
    in.steps.erase(in.steps.begin() + static_cast<std::ptrdiff_t>(i + 1));
    return true;
  }
  static constexpr std::string_view kEnds[] = {"\n", "\r", "", "\r\r\n", "\n\r", " \r\n"};
  s.kind = StepKind::kRaw;
  s.bytes += rng.Pick(kEnds);
  return true;
}

std::size_t BuiltinByteMutator(Rng& rng, std::uint8_t* data, std::size_t size, std::size_t max) {
  switch (size == 0 ? 2 : rng.Below(4)) {
    case 0:
      data[rng.Below(size)] ^= static_cast<std::uint8_t>(1u << rng.Below(8));
      return size;
    case 1:
      data[rng.Below(size)] = static_cast<std::uint8_t>(rng.Next());
      return size;
    case 2: {
      if (size >= max) return size;
      const std::size_t at = rng.Below(size + 1);
      std::copy_backward(data + at, data + size, data + size + 1);
      data[at] = static_cast<std::uint8_t>(rng.Next());
      return size + 1;
    }
    default: {
      const std::size_t at = rng.Below(size);
      std::copy(data + at + 1, data + size, data + at);
      return size - 1;
    }
  }
}

bool Bytes(SessionInput& in, Rng& rng, const MutationContext& ctx) {
  const std::size_t i =
      PickStep(in, rng, true, [](const SessionStep& s) { return s.kind != StepKind::kStartTls; });
  if (i == kNone) return false;
  std::string& b = in.steps[i].bytes;
  const std::size_t size = b.size();
  const std::size_t cap =
      std::min({size + std::max<std::size_t>(size, 64), size + Budget(in, ctx), kMaxStepBytes});
  if (cap == 0) return false;
  b.resize(cap);
  auto* data = reinterpret_cast<std::uint8_t*>(b.data());
  const std::size_t n = ctx.byte_mutator != nullptr ? ctx.byte_mutator(data, size, cap)
                                                    : BuiltinByteMutator(rng, data, size, cap);
  b.resize(std::min(n, cap));
  return true;
}

using OpFn = bool (*)(SessionInput&, Rng&, const MutationContext&);

constexpr OpFn kOps[kMutationOps] = {
    InsertStep,   DeleteStep,     DuplicateStep,  SwapSteps,  MoveStep,        Splice,
    ChangeVerb,   ChangeVerbCase, ChangeArgument, ChangePath, ChangeMailParam, ChangeRcptParam,
    ChangeNumber, InsertToken,    Smuggle,        LongLine,   Pipeline,        StartTls,
    Auth,         Bdat,           DataBody,       RawLineEnd, Bytes,
};

}  // namespace

bool ApplyMutation(MutationOp op, SessionInput& input, Rng& rng, const MutationContext& ctx) {
  return kOps[static_cast<std::size_t>(op)](input, rng, ctx);
}

}  // namespace smtp::fuzz
