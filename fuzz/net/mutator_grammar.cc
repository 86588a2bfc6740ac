#include "fuzz/net/mutator_grammar.h"

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "parser/ascii.h"
#include "parser/command.h"
#include "parser/esmtp_params.h"

namespace smtp::fuzz::grammar {
namespace {

using namespace std::string_view_literals;

// One of `choices`, as a string (the choices may be temporaries).
std::string PickOne(Rng& rng, std::initializer_list<std::string_view> choices) {
  return std::string(choices.begin()[rng.Below(choices.size())]);
}

constexpr std::string_view kUnknownVerbs[] = {
    "XCLIENT", "XFORWARD", "BURL",         "ATRN", "TURN",  "SEND", "SOML", "SAML", "VERB",
    "ONEX",    "XEXCH50",  "X-LINK2STATE", "WIZ",  "DEBUG", "POST", "GET",  "",
};

constexpr std::string_view kGoodDomains[] = {
    "client.example", "a.example",          "mail.example.org",
    "localhost",      "example.com",        "[127.0.0.1]",
    "[IPv6:::1]",     "[IPv6:2001:db8::1]", "xn--bcher-kva.example",
};

constexpr std::string_view kBadDomains[] = {
    "",
    "-bad-.example",
    "a..b",
    "a_b.example",
    "example.",
    ".example",
    "[1.2.3.256]",
    "[IPv6:::ffff:1.2.3.4]",
    "[tag:content]",
    "[]",
    "[127.0.0.1",
    "b\xC3\xBC"
    "cher.example",
    "\xFF\xFE.example",
    "a b",
    "*",
};

constexpr std::string_view kLocalParts[] = {
    "a",
    "user",
    "first.last",
    "a+tag",
    "\"quoted local\"",
    "\"a\\\"b\"",
    "\"\"",
    "\xC3\xBC"
    "ser",
    ".a",
    "a.",
    "a..b",
    "a@b",
    "\"a@b\"",
    "postmaster",
    "!#$%&'*+-/=?^_`{|}~",
};

constexpr std::string_view kNumbers[] = {
    "0",
    "1",
    "999",
    "1000",
    "1001",
    "65535",
    "65536",
    "2147483647",
    "2147483648",
    "4294967295",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999",
    "999999999999999999999999999999",
    "-1",
    "01",
    "",
    "1e3",
    "+1",
};

constexpr std::string_view kBodies[] = {"7BIT", "8BITMIME", "BINARYMIME", "8bitmime", "BOGUS", ""};

constexpr std::string_view kNotify[] = {
    "NEVER",           "SUCCESS",
    "FAILURE",         "DELAY",
    "SUCCESS,FAILURE", "SUCCESS,FAILURE,DELAY",
    "FAILURE,DELAY",   "NEVER,SUCCESS",
    "SUCCESS,SUCCESS", "",
    "never",
};

constexpr std::string_view kSmuggle[] = {
    "\n.\n",   "\r\n.\n",     "\n.\r\n", "\r.\r",     "\r\n.\r",
    "\r.\r\n", "\r\n\r\n.\n", "\n..\n",  "\r\n.\r\n", "\r\n\x00.\r\n"sv,
};

}  // namespace

const std::vector<std::string_view>& KnownVerbs() {
  static const std::vector<std::string_view> verbs = [] {
    std::vector<std::string_view> v;
    // VerbName is "" past the last verb, so new verbs join on their own.
    for (int i = 1; i < 256; ++i) {
      const std::string_view name = VerbName(static_cast<smtp::Verb>(i));
      if (name.empty()) break;
      v.push_back(name);
    }
    return v;
  }();
  return verbs;
}

std::string Verb(Rng& rng) {
  if (!rng.OneIn(4)) {
    const auto& verbs = KnownVerbs();
    return std::string(verbs[rng.Below(verbs.size())]);
  }
  std::string v(rng.Pick(kUnknownVerbs));
  if (rng.OneIn(3)) {  // a misspelt known verb
    const auto& verbs = KnownVerbs();
    v = std::string(verbs[rng.Below(verbs.size())]);
    const std::size_t at = rng.Below(v.size() + 1);
    if (rng.OneIn(2) && at < v.size()) {
      v.erase(at, 1);
    } else {
      v.insert(at, 1, rng.OneIn(2) ? 'X' : static_cast<char>('0' + rng.Below(10)));
    }
  }
  return v;
}

std::string ChangeCase(std::string_view word, Rng& rng) {
  std::string out(word);
  const std::size_t how = rng.Below(3);
  for (char& c : out) {
    const bool lower = how == 0 || (how == 2 && rng.OneIn(2));
    if (lower && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (!lower && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

std::string Domain(Rng& rng) {
  switch (rng.Below(8)) {
    case 0:
      return std::string(rng.Pick(kBadDomains));
    case 1: {  // a label at the 63-octet limit or just over, or a long name
      std::string d(63 + rng.Below(3), 'l');
      if (rng.OneIn(2)) {
        while (d.size() < 250) d += ".abcdefghijklmnopq";
        d.resize(253 + rng.Below(6));
      }
      return d + ".example";
    }
    default:
      return std::string(rng.Pick(kGoodDomains));
  }
}

std::string HeloArgument(Rng& rng) {
  if (rng.OneIn(8)) return rng.OneIn(2) ? "" : "client.example extra words";
  return Domain(rng);
}

std::string Mailbox(Rng& rng) {
  std::string local;
  switch (rng.Below(6)) {
    case 0:
      local = rng.Pick(kLocalParts);
      break;
    case 1:
      local.assign(64 + rng.Below(3) - 1, 'x');  // 63, 64 (the limit) or 65
      break;
    default:
      local = rng.OneIn(2) ? "sender" : "rcpt";
      break;
  }
  return local + "@" + (rng.OneIn(4) ? Domain(rng) : std::string("example.org"));
}

std::string Path(Rng& rng, bool mail) {
  switch (rng.Below(12)) {
    case 0:
      return mail ? "<>" : "<Postmaster>";
    case 1:
      return "<@relay1.example,@relay2.example:" + Mailbox(rng) + ">";
    case 2:  // no angle brackets, spaces inside, unterminated, empty
      return PickOne(rng, {std::string_view("a@b.example"), "< a@b.example >", "<a@b.example", "<>",
                           "<<a@b.example>>", "<@:a@b>", "<a@b.example> "});
    case 3: {  // at the 256-octet path limit, or just over
      std::string local(64, 'p');
      std::string domain;
      while (domain.size() < 189) domain += "abcdefghi.";
      domain.resize(186 + rng.Below(4));
      domain += "ex";
      return "<" + local + "@" + domain + ">";
    }
    default:
      return "<" + Mailbox(rng) + ">";
  }
}

std::string Number(Rng& rng) {
  if (rng.OneIn(6)) return std::to_string(rng.Below(100000));
  return std::string(rng.Pick(kNumbers));
}

std::string Base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                       (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
  }
  if (i < in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string MailParam(Rng& rng) {
  switch (rng.Below(9)) {
    case 0:
    case 1:
      return "SIZE=" + Number(rng);
    case 2:
      return "BODY=" + std::string(rng.Pick(kBodies));
    case 3:
      return rng.OneIn(4) ? "SMTPUTF8=yes" : "SMTPUTF8";
    case 4:
      return PickOne(rng, {std::string_view("RET=FULL"), "RET=HDRS", "RET=NONE", "RET="});
    case 5:
      return "ENVID=" + (rng.OneIn(4) ? std::string(101, 'e') : EncodeXtext("id+=1 \x01"));
    case 6:
      return PickOne(rng, {std::string_view("AUTH=<>"), "AUTH=" + EncodeXtext("user@example.org"),
                           "AUTH=bad value", "AUTH=+4"});
    case 7:
      return PickOne(rng, {std::string_view("X-UNKNOWN=1"), "XFOO", "=novalue", "SIZE", "BODY"});
    default:
      return rng.OneIn(2) ? "SIZE=1000" : "BODY=8BITMIME";
  }
}

std::string RcptParam(Rng& rng) {
  switch (rng.Below(4)) {
    case 0:
    case 1:
      return "NOTIFY=" + std::string(rng.Pick(kNotify));
    case 2:
      return PickOne(rng, {"ORCPT=rfc822;" + EncodeXtext(Mailbox(rng)),
                           std::string_view("ORCPT=utf-8;u\\x{00FC}ser@example.org"),
                           "ORCPT=rfc822", "ORCPT=;a@b", "ORCPT=rfc822;a+ZZb"});
    default:
      return PickOne(rng, {std::string_view("X-UNKNOWN=1"), "SIZE=10", "XFOO", "NOTIFY"});
  }
}

std::string ValidMailParam(Rng& rng) {
  switch (rng.Below(6)) {
    case 0:
      return "SIZE=" + std::to_string(rng.Below(100000));
    case 1:
      return PickOne(rng, {std::string_view("BODY=7BIT"), "BODY=8BITMIME", "BODY=BINARYMIME"});
    case 2:
      return rng.OneIn(2) ? "RET=FULL" : "RET=HDRS";
    case 3:
      return "ENVID=" + EncodeXtext("id-" + std::to_string(rng.Below(1000)));
    case 4:
      return "SMTPUTF8";
    default:
      return rng.OneIn(2) ? "AUTH=<>" : "AUTH=" + EncodeXtext("user@example.org");
  }
}

std::string ValidRcptParam(Rng& rng) {
  if (rng.OneIn(4)) return "ORCPT=rfc822;" + EncodeXtext("rcpt@example.org");
  // RFC 3461 §4.1: NEVER alone, or any of the other three.
  return "NOTIFY=" + PickOne(rng, {std::string_view("NEVER"), "SUCCESS", "FAILURE", "DELAY",
                                   "SUCCESS,FAILURE", "FAILURE,DELAY", "SUCCESS,FAILURE,DELAY"});
}

// Free text that has broken servers before (the classic fuzzing string
// library, as in boofuzz's): format directives, path traversal, shell and
// SQL metacharacters, a long run, a NUL.
std::string HostileText(Rng& rng) {
  static constexpr std::string_view kHostile[] = {
      "%x",    "%s%s%s%s", "%n%n", "%99999999d", "../../../../etc/passwd", "$(id)", "`id`",
      "'; --", "\\",       "{}",   "\x7f\x7f"};
  if (rng.OneIn(8)) return std::string(64 + rng.Below(512), 'A');
  return std::string(kHostile[rng.Below(std::size(kHostile))]);
}

std::string CommandFor(std::string_view verb, Rng& rng) {
  std::string line(verb);
  if (verb == "EHLO" || verb == "HELO" || verb == "LHLO") {
    const std::string arg = HeloArgument(rng);
    if (!arg.empty()) line += " " + arg;
  } else if (verb == "MAIL") {
    line += " FROM:" + Path(rng, true);
    for (std::size_t n = rng.OneIn(2) ? rng.Below(3) : 0; n > 0; --n) line += " " + MailParam(rng);
  } else if (verb == "RCPT") {
    line += " TO:" + Path(rng, false);
    if (rng.OneIn(3)) line += " " + RcptParam(rng);
  } else if (verb == "BDAT") {
    line += " " + Number(rng) + (rng.OneIn(2) ? " LAST" : "");
  } else if (verb == "VRFY" || verb == "EXPN") {
    line += " " + (rng.OneIn(2) ? Mailbox(rng) : std::string("user"));
    if (rng.OneIn(4)) line += " SMTPUTF8";
  } else if (verb == "HELP") {
    if (rng.OneIn(3)) {
      line += " " + HostileText(rng);
    } else if (rng.OneIn(2)) {
      line += " " + std::string(KnownVerbs()[rng.Below(KnownVerbs().size())]);
    }
  } else if (verb == "NOOP") {
    if (rng.OneIn(3)) line += " " + (rng.OneIn(2) ? std::string("anything") : HostileText(rng));
  } else if (verb == "ETRN") {
    line += PickOne(rng, {std::string_view(" @example.org"), " #queue", " example.org", ""});
  } else if (verb == "AUTH") {
    line += PickOne(rng, {std::string_view(" PLAIN "), " LOGIN ", " CRAM-MD5", " XOAUTH2 ", " "});
    if (line.back() == ' ') line += Base64(std::string_view("\0user\0pass", 10));
  } else if (rng.OneIn(8)) {  // DATA, RSET, QUIT, STARTTLS, unknown: a stray argument
    line += " junk";
  }
  return line;
}

std::string AnyCommand(Rng& rng) { return CommandFor(Verb(rng), rng); }

std::vector<SessionStep> AuthExchange(Rng& rng) {
  std::vector<SessionStep> steps;
  const auto add = [&](std::string line) {
    steps.push_back({StepKind::kCommand, std::move(line)});
  };
  const std::string user = rng.OneIn(4) ? std::string(300, 'u') : "user";
  const std::string pass = rng.OneIn(8) ? "" : "secret";
  switch (rng.Below(7)) {
    case 0:  // PLAIN with an initial response (RFC 4616), perhaps an authzid
      add("AUTH PLAIN " + Base64((rng.OneIn(4) ? "admin" : "") + std::string(1, '\0') + user +
                                 std::string(1, '\0') + pass));
      break;
    case 1:  // PLAIN, the response on its own line; "=" is the empty response
      add("AUTH PLAIN");
      add(rng.OneIn(4) ? "=" : Base64(std::string(1, '\0') + user + std::string(1, '\0') + pass));
      break;
    case 2:  // LOGIN: user and password as continuation lines
      add("AUTH LOGIN");
      add(Base64(user));
      add(Base64(pass));
      break;
    case 3:
      add("AUTH LOGIN " + Base64(user));
      add(Base64(pass));
      break;
    case 4:  // CRAM-MD5: "user" SP 32 hex digits
      add("AUTH CRAM-MD5");
      add(Base64(user + " " + std::string(rng.OneIn(4) ? 31 : 32, 'a')));
      break;
    case 5:  // cancelled exchanges
      add(rng.OneIn(2) ? "AUTH LOGIN" : "AUTH CRAM-MD5");
      add("*");
      break;
    default:  // bad base64, an unknown mechanism, a lower-case one, none
      add(PickOne(rng,
                  {std::string_view("AUTH PLAIN !!!!"), "AUTH PLAIN AGE=AGI=", "AUTH XOAUTH2 dG9r",
                   "auth plain AHVzZXIAc2VjcmV0", "AUTH", "AUTH PLAIN ="}));
      break;
  }
  return steps;
}

std::string Body(Rng& rng) {
  std::string body = "Subject: test " + std::to_string(rng.Below(1000)) + "\r\n\r\nHello.\r\n";
  if (rng.OneIn(4)) body += BodyLine(rng) + "\r\n";
  return body;
}

std::string BodyLine(Rng& rng) {
  switch (rng.Below(8)) {
    case 0:
      return PickOne(rng, {std::string_view("."), "..", ".line", ". ", "..."});
    case 1:
      return std::string(998 + rng.Below(4), 'b');  // the 1000-octet text-line limit
    case 2:
      return "8-bit: \xC3\xA9\xFF\x80";
    case 3:
      return std::string("NUL \0 inside", 12);
    case 4:
      return PickOne(rng, {std::string_view("bare\rCR"), "bare\nLF", "\r", "\n"});
    case 5:
      return "From someone@example.org Thu Jan  1 00:00:00 1970";
    case 6:
      return "X-Header: " + std::string(rng.Below(80), 'h');
    default:
      return "";
  }
}

std::string_view SmuggleSequence(Rng& rng) { return rng.Pick(kSmuggle); }

std::string SmuggledCommands(Rng& rng) {
  std::string s = "MAIL FROM:<smuggled@evil.example>\r\nRCPT TO:<victim@example.org>\r\n";
  if (rng.OneIn(2)) s += "DATA\r\nSubject: smuggled\r\n\r\nsmuggled\r\n";
  if (rng.OneIn(3)) s += "RSET\r\n";
  return s;
}

std::string_view FirstWord(std::string_view line) { return line.substr(0, line.find(' ')); }

bool IsVerb(const SessionStep& step, std::string_view verb) {
  return step.kind == StepKind::kCommand && EqualsIgnoreCase(FirstWord(step.bytes), verb);
}

const std::vector<std::string_view>& BuiltinTokens() {
  static const std::vector<std::string_view> tokens = [] {
    std::vector<std::string_view> t(KnownVerbs());
    for (std::string_view s : std::initializer_list<std::string_view>{
             "FROM:",    "TO:",    "<>",       "<",     ">",        "@",       ":",
             ",",        "=",      " ",        "\r\n",  "\n",       "\r",      "\0"sv,
             "SIZE=",    "BODY=",  "SMTPUTF8", "RET=",  "ENVID=",   "AUTH=",   "NOTIFY=",
             "ORCPT=",   "LAST",   "PLAIN",    "LOGIN", "CRAM-MD5", "rfc822;", "+2B",
             "\xC3\xA9", "[IPv6:", "\"",       "\\",    "%x",       "%s",      "%n"}) {
      t.push_back(s);
    }
    return t;
  }();
  return tokens;
}

}  // namespace smtp::fuzz::grammar
