// The session mutator's wire-level operators: what goes on the wire
// around and inside the commands (mutator_ops.h).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/net/mutator_ops.h"
#include "parser/limits.h"

namespace smtp::fuzz::internal {
namespace {

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

}  // namespace

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
    case 2: {  // "BDAT n" with a chunk of another size, sent raw in the same
               // write (the server answers BDAT only after the chunk)
      const std::string chunk = d != kNone ? in.steps[d].bytes : "chunk";
      if (chunk.size() + 32 > Budget(in, ctx)) return false;
      const std::size_t declared =
          rng.OneIn(2) ? chunk.size() + 1
                       : chunk.size() - std::min<std::size_t>(chunk.size(), 1 + rng.Below(3));
      Steps s{Command("BDAT " + std::to_string(declared) + (rng.OneIn(2) ? " LAST" : "")),
              {StepKind::kRaw, chunk, /*pipelined=*/true, false}};
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

}  // namespace smtp::fuzz::internal
