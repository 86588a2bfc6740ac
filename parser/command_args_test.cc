// The AUTH mechanism, BDAT's end-marker and the VRFY / EXPN String against
// models of the octet-by-octet loops they were before they took whole
// words and class runs at a time (command.cc, command_args.cc): the same
// error code and offset, or the same fields, on random arguments built from
// the octets and words where those loops decide.
#include <gtest/gtest.h>

#include <cstddef>
#include <random>
#include <string>
#include <string_view>

#include "parser/command.h"
#include "parser/internal/command_chars.h"
#include "parser/internal/path_chars.h"

namespace smtp {
namespace {

using internal::IsHigh;

bool IsWsp(char c) { return c == ' ' || c == '\t'; }
bool IsCtl(char c) { return (c >= 0 && c < 32) || c == 127; }

// A step of the model: kOk, or the error and its offset.
struct Outcome {
  Errc code = Errc::kOk;
  std::size_t offset = 0;
};

// CommandParser::Fail: an 8-bit octet or a control character at `at` is
// reported as such.
Outcome Fail(std::string_view body, Errc code, std::size_t at) {
  if (at < body.size() && IsHigh(body[at])) return {Errc::kEightBit, at};
  if (at < body.size() && IsCtl(body[at])) return {Errc::kControlChar, at};
  return {code, at};
}

// CommandParser::End.
Outcome End(std::string_view body, std::size_t end, Errc code) {
  if (end == body.size()) return {};
  bool only_wsp = true;
  for (std::size_t k = end; k < body.size(); ++k) only_wsp = only_wsp && IsWsp(body[k]);
  if (only_wsp || IsWsp(body[end])) return {Errc::kTrailingGarbage, end};
  return Fail(body, code, end);
}

// The mechanism loop: kOk with its end in `offset`, or its error.
Outcome ModelMechanism(std::string_view body, std::size_t pos) {
  std::size_t i = pos;
  for (; i < body.size() && !IsWsp(body[i]); ++i) {
    if (!internal::IsC(body[i], internal::kSaslBit)) {
      return Fail(body, Errc::kBadAuthMechanism, i);
    }
    if (i - pos == 20) return {Errc::kBadAuthMechanism, i};
  }
  return {Errc::kOk, i};
}

// "LAST" octet by octet, then End.
Outcome ModelLast(std::string_view body, std::size_t i) {
  constexpr std::string_view kLast = "LAST";
  for (std::size_t k = 0; k < kLast.size(); ++k) {
    if (i + k == body.size() || (body[i + k] & ~0x20) != kLast[k]) {
      return Fail(body, Errc::kBadBdatLast, i + k);
    }
  }
  return End(body, i + kLast.size(), Errc::kBadBdatLast);
}

// String = Atom / Quoted-string, octet by octet; kOk with its end in
// `offset`, or its error.
Outcome ModelString(std::string_view body, std::size_t pos, bool utf8) {
  const std::size_t n = body.size();
  std::size_t i = pos;
  const auto utf8_at = [&](std::size_t& k) {
    const std::size_t len = internal::Utf8SequenceLength(body, k);
    if (len == 0) return false;
    k += len;
    return true;
  };
  if (body[i] == '"') {
    ++i;
    for (;;) {
      if (i == n) return {Errc::kBadString, i};
      const char ch = body[i];
      if (ch == '"') {
        ++i;
        break;
      }
      if (ch == '\\') {
        if (i + 1 == n || !internal::Is(body[i + 1], internal::kQpairBit)) {
          return Fail(body, Errc::kBadString, i + 1);
        }
        i += 2;
      } else if (IsHigh(ch) && utf8) {
        if (!utf8_at(i)) return {Errc::kBadUtf8, i};
      } else if (internal::Is(ch, internal::kQtextBit)) {
        ++i;
      } else {
        return Fail(body, Errc::kBadString, i);
      }
    }
  } else {
    while (i < n) {
      if (IsHigh(body[i]) && utf8) {
        if (!utf8_at(i)) return {Errc::kBadUtf8, i};
      } else if (internal::Is(body[i], internal::kAtextBit)) {
        ++i;
      } else {
        break;
      }
    }
    if (i == pos) return Fail(body, Errc::kBadString, pos);
  }
  return {Errc::kOk, i};
}

bool EqualsSmtputf8(std::string_view s) {
  constexpr std::string_view kWord = "SMTPUTF8";
  if (s.size() != kWord.size()) return false;
  for (std::size_t k = 0; k < s.size(); ++k) {
    const char c = s[k] >= 'a' && s[k] <= 'z' ? static_cast<char>(s[k] - 32) : s[k];
    if (c != kWord[k]) return false;
  }
  return true;
}

// VRFY / EXPN after "VERB SP": the SMTPUTF8 suffix decided first from the
// line's last WSP, then the String, then the suffix or End. Sets *smtputf8.
Outcome ModelVrfy(std::string_view body, std::size_t pos, bool opts_utf8, bool* smtputf8) {
  std::size_t last = std::string_view::npos;
  for (std::size_t k = body.size(); k-- > 0;) {
    if (IsWsp(body[k])) {
      last = k;
      break;
    }
  }
  const bool utf8 = opts_utf8 || (last != std::string_view::npos && last > pos &&
                                  EqualsSmtputf8(body.substr(last + 1)));
  const Outcome s = ModelString(body, pos, utf8);
  if (s.code != Errc::kOk) return s;
  const std::size_t end = s.offset;
  bool only_wsp = true;
  for (std::size_t k = end; k < body.size(); ++k) only_wsp = only_wsp && IsWsp(body[k]);
  if (end == body.size() || !IsWsp(body[end]) || only_wsp) return End(body, end, Errc::kBadString);
  std::size_t q = end;
  if (body[q] == ' ' && q + 1 < body.size() && !IsWsp(body[q + 1])) {
    ++q;
  } else {
    const std::size_t start = q;
    while (q < body.size() && IsWsp(body[q])) ++q;
    if (!(body[start] == ' ' && q - start == 1)) {
      if (body[start] != ' ') return {Errc::kMissingSpace, start};
      return {Errc::kTrailingGarbage, start + 1};
    }
  }
  if (!EqualsSmtputf8(body.substr(q))) return {Errc::kTrailingGarbage, end};
  *smtputf8 = true;
  return {Errc::kOk, end};
}

constexpr std::string_view kTokens[] = {
    "a",
    "Z",
    "0",
    "-",
    "_",
    "+",
    "/",
    "=",
    "\"",
    "\\",
    " ",
    "\t",
    "\x01",
    "\x7f",
    "\xC3\xB6",
    "\xC3",
    "\x80",
    "@",
    ".",
    "!",
    "L",
    "A",
    "S",
    "T",
    "LAST",
    "last",
    "LAsT",
    "LASx",
    "SMTPUTF8",
    "smtputf8",
    "ABCDEFGHIJKLMNOPQRST",
    "  SMTPUTF8",
    " smtputf8",
    "\"a b\"",
    "YQ==",
};

std::string RandomArgument(std::mt19937& rng) {
  std::string s;
  const std::size_t count = rng() % 9;
  for (std::size_t k = 0; k < count; ++k) s += kTokens[rng() % std::size(kTokens)];
  return s;
}

void ExpectOutcome(const Result<Command>& r, const Outcome& want, std::string_view line) {
  ASSERT_FALSE(r.ok()) << line;
  EXPECT_EQ(r.error().code, want.code) << line << ": " << r.error().reason;
  EXPECT_EQ(r.error().offset, want.offset) << line;
}

TEST(CommandArgs, AuthMechanismAsTheOctetLoop) {
  std::mt19937 rng(20261206);
  for (int round = 0; round < 20000; ++round) {
    const std::string arg = RandomArgument(rng);
    if (arg.empty() || IsWsp(arg[0])) continue;  // the separator's rules, not the mechanism's
    const std::string line = "AUTH " + arg + "\r\n";
    const std::string_view body(line.data(), line.size() - 2);
    const Outcome mech = ModelMechanism(body, 5);
    const Result<Command> r = ParseCommand(line);
    if (mech.code != Errc::kOk) {
      ExpectOutcome(r, mech, line);
    } else if (r.ok()) {
      EXPECT_EQ(r->auth_mechanism, body.substr(5, mech.offset - 5)) << line;
    } else {
      EXPECT_GE(r.error().offset, mech.offset) << line;  // an error in what follows
    }
  }
}

TEST(CommandArgs, BdatEndMarkerAsTheOctetLoop) {
  std::mt19937 rng(3030);
  for (int round = 0; round < 20000; ++round) {
    const std::string arg = RandomArgument(rng);
    if (arg.empty() || IsWsp(arg[0])) continue;
    const std::string line = "BDAT 12 " + arg + "\r\n";
    const std::string_view body(line.data(), line.size() - 2);
    const Outcome want = ModelLast(body, 8);
    const Result<Command> r = ParseCommand(line);
    if (want.code != Errc::kOk) {
      ExpectOutcome(r, want, line);
    } else {
      ASSERT_TRUE(r.ok()) << line;
      EXPECT_TRUE(r->bdat_last);
      EXPECT_EQ(r->chunk_size, 12u);
    }
  }
}

TEST(CommandArgs, VrfyStringAsTheOctetLoop) {
  std::mt19937 rng(6531);
  for (int round = 0; round < 40000; ++round) {
    const std::string arg = RandomArgument(rng);
    if (arg.empty() || IsWsp(arg[0])) continue;
    for (const bool utf8 : {false, true}) {
      CommandOptions opts;
      opts.utf8 = utf8;
      const std::string line = std::string(round % 2 ? "VRFY " : "expn ") + arg + "\r\n";
      const std::string_view body(line.data(), line.size() - 2);
      bool smtputf8 = false;
      const Outcome want = ModelVrfy(body, 5, utf8, &smtputf8);
      const Result<Command> r = ParseCommand(line, opts);
      if (want.code != Errc::kOk) {
        ExpectOutcome(r, want, line);
      } else {
        ASSERT_TRUE(r.ok()) << line << ": " << r.error().reason;
        EXPECT_EQ(r->text, body.substr(5, want.offset - 5)) << line;
        EXPECT_EQ(r->smtputf8, smtputf8) << line;
      }
    }
  }
}

}  // namespace
}  // namespace smtp
