// Helpers shared by the command tests (command_test.cc,
// command_leniency_test.cc): golden descriptions, the round-trip and
// full-consumption checks, and a field-for-field comparison for the in-place
// parser. Test-only.
#ifndef SMTP_PARSER_COMMAND_TEST_UTIL_H_
#define SMTP_PARSER_COMMAND_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "parser/command.h"
#include "parser/dirty_test_util.h"

namespace smtp::testing {

// Leniencies about framing and spacing: a canonical line never needs them.
inline constexpr Leniencies kFramingLeniencies = kSpaceAfterColon | kSpaceBeforeColon |
                                                 kMissingAngleBrackets | kTrailingWhitespace |
                                                 kBareLfLineEnd | kBareCrLineEnd | kExtraWhitespace;

// Golden form of a parsed command: the verb, then the fields that verb sets.
inline std::string Describe(const Command& c) {
  std::string out =
      c.verb == Verb::kUnknown ? "?" + std::string(c.verb_text) : std::string(VerbName(c.verb));
  const auto add = [&](std::string_view key, std::string_view value) {
    out += ' ';
    out += key;
    out += '=';
    out += value;
  };
  switch (c.verb) {
    case Verb::kUnknown:
      add("arg", c.argument);
      break;
    case Verb::kEhlo:
    case Verb::kHelo:
    case Verb::kLhlo:
      add("domain", c.text);
      add("kind", DomainKindName(c.domain_kind));
      break;
    case Verb::kMail:
    case Verb::kRcpt:
      out += ' ' + SerializePath(c.path);
      if (!c.path.source_route.empty()) add("route", c.path.source_route);
      if (!c.path.is_null && !c.path.is_postmaster) {
        add("local", c.path.local_part);
        add("domain", c.path.domain);
        add("kind", DomainKindName(c.path.domain_kind));
      }
      if (c.path.has_utf8) out += " utf8";
      if (c.params.count > 0) {
        std::string params;
        AppendEsmtpParams(c.params, &params);
        add("params", params.substr(1));
      }
      break;
    case Verb::kVrfy:
    case Verb::kExpn:
    case Verb::kHelp:
    case Verb::kNoop:
    case Verb::kEtrn:
      add("text", c.text);
      if (c.smtputf8) out += " smtputf8";
      break;
    case Verb::kAuth:
      add("mech", c.auth_mechanism);
      if (c.has_initial_response) add("ir", c.auth_initial_response);
      break;
    case Verb::kBdat:
      add("size", std::to_string(c.chunk_size));
      if (c.bdat_last) out += " last";
      break;
    default:
      break;
  }
  return out;
}

inline Result<Command> Parse(std::string_view line, Leniencies len = kStrict, bool utf8 = false) {
  CommandOptions opts;
  opts.leniencies = len;
  opts.utf8 = utf8;
  return ParseCommand(line, opts);
}

// Where the parsed command must end: the line without its terminator and,
// when the leniency stripped it, without trailing whitespace.
inline void ExpectFullyConsumed(std::string_view line, const Command& c) {
  std::size_t end = line.size();
  while (end > 0 && (line[end - 1] == '\n' || line[end - 1] == '\r')) --end;
  while (end > 0 && (line[end - 1] == ' ' || line[end - 1] == '\t')) --end;
  EXPECT_EQ(c.verb_text.data(), line.data());
  if (!c.argument.empty()) {
    EXPECT_EQ(c.argument.data() + c.argument.size(), line.data() + end) << "unconsumed rest";
  } else {
    EXPECT_EQ(c.verb_text.size(), end) << "unconsumed rest";
  }
}

inline void ExpectRoundTrip(const Command& c, Leniencies len, bool utf8) {
  const std::string wire = SerializeCommand(c);
  const Leniencies content = len & ~kFramingLeniencies;
  Result<Command> again = Parse(wire, content, utf8);
  ASSERT_TRUE(again.ok()) << wire << ": " << ErrcName(again.error().code) << " at "
                          << again.error().offset;
  EXPECT_TRUE(*again == c) << wire << " -> " << Describe(*again) << " vs " << Describe(c);
  EXPECT_EQ(again->deviations & kFramingLeniencies, kStrict) << wire;
  EXPECT_EQ(SerializeCommand(*again), wire);
}

// Field for field, views by content (operator== on Command is semantic and
// skips spelling and deviations; ParseCommandInto promises more).
inline void ExpectSameFields(const Command& a, const Command& b) {
  EXPECT_EQ(a.verb, b.verb);
  EXPECT_EQ(a.verb_text, b.verb_text);
  EXPECT_EQ(a.argument, b.argument);
  EXPECT_EQ(a.text, b.text);
  EXPECT_EQ(a.domain_kind, b.domain_kind);
  EXPECT_EQ(a.smtputf8, b.smtputf8);
  EXPECT_EQ(a.path.raw, b.path.raw);
  EXPECT_EQ(a.path.is_null, b.path.is_null);
  EXPECT_EQ(a.path.is_postmaster, b.path.is_postmaster);
  EXPECT_EQ(a.path.source_route, b.path.source_route);
  EXPECT_EQ(a.path.local_part, b.path.local_part);
  EXPECT_EQ(a.path.quoted_local_part, b.path.quoted_local_part);
  EXPECT_EQ(a.path.domain, b.path.domain);
  EXPECT_EQ(a.path.domain_kind, b.path.domain_kind);
  EXPECT_EQ(a.path.has_utf8, b.path.has_utf8);
  EXPECT_EQ(a.path.deviations, b.path.deviations);
  ASSERT_EQ(a.params.count, b.params.count);
  for (std::size_t i = 0; i < a.params.count; ++i) {
    EXPECT_EQ(a.params.items[i].keyword, b.params.items[i].keyword);
    EXPECT_EQ(a.params.items[i].value, b.params.items[i].value);
    EXPECT_EQ(a.params.items[i].has_value, b.params.items[i].has_value);
    EXPECT_EQ(a.params.items[i].kind, b.params.items[i].kind);
  }
  EXPECT_EQ(a.params.size, b.params.size);
  EXPECT_EQ(a.params.body, b.params.body);
  EXPECT_EQ(a.params.smtputf8, b.params.smtputf8);
  EXPECT_EQ(a.params.ret, b.params.ret);
  EXPECT_EQ(a.params.envid, b.params.envid);
  EXPECT_EQ(a.params.auth, b.params.auth);
  EXPECT_EQ(a.params.notify, b.params.notify);
  EXPECT_EQ(a.params.orcpt_type, b.params.orcpt_type);
  EXPECT_EQ(a.params.orcpt_addr, b.params.orcpt_addr);
  EXPECT_EQ(a.params.has_unknown, b.params.has_unknown);
  EXPECT_EQ(a.auth_mechanism, b.auth_mechanism);
  EXPECT_EQ(a.auth_initial_response, b.auth_initial_response);
  EXPECT_EQ(a.has_initial_response, b.has_initial_response);
  EXPECT_EQ(a.chunk_size, b.chunk_size);
  EXPECT_EQ(a.bdat_last, b.bdat_last);
  EXPECT_EQ(a.deviations, b.deviations);
}

// ParseCommandInto into a dirty Command agrees with ParseCommand: the same
// fields, or the same error.
inline void ExpectIntoAgrees(std::string_view line, const CommandOptions& opts) {
  const Result<Command> r = ParseCommand(line, opts);
  Command reused;
  Dirty(&reused);
  const ParseError e = ParseCommandInto(line, opts, &reused);
  if (r.ok()) {
    ASSERT_EQ(e.code, Errc::kOk) << ErrcName(e.code) << " at " << e.offset;
    ExpectSameFields(reused, *r);
  } else {
    EXPECT_EQ(e, r.error());
  }
}

}  // namespace smtp::testing

#endif  // SMTP_PARSER_COMMAND_TEST_UTIL_H_
