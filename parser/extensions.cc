#include "parser/extensions.h"

#include <algorithm>
#include <cstdint>

#include "parser/ascii.h"

namespace smtp {
namespace {

constexpr bool IsAlnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// ehlo-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
bool IsEhloKeyword(std::string_view s) {
  if (s.empty() || !IsAlnum(s[0])) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return IsAlnum(c) || c == '-'; });
}

// ehlo-param = 1*(%d33-126)
bool IsEhloParam(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= 33 && c <= 126; });
}

// RFC 4954 §3 / RFC 4422 §3.1: sasl-mech = 1*20(UPPER-ALPHA / DIGIT / "-" / "_")
bool IsSaslMech(std::string_view s) {
  return !s.empty() && s.size() <= 20 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

// Words separated by runs of SP / HT.
std::vector<std::string_view> Words(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    const std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

// ehlo-line = ehlo-keyword *( SP ehlo-param ), checked on the raw line.
bool IsWellFormedLine(std::string_view line) {
  std::size_t sp = line.find(' ');
  if (!IsEhloKeyword(line.substr(0, sp))) return false;
  while (sp != std::string_view::npos) {
    const std::size_t start = sp + 1;
    sp = line.find(' ', start);
    const std::size_t n = sp == std::string_view::npos ? std::string_view::npos : sp - start;
    if (!IsEhloParam(line.substr(start, n))) return false;
  }
  return true;
}

EhloExtension MakeExtension(const std::vector<std::string_view>& words) {
  EhloExtension ext;
  if (!words.empty()) ext.keyword = std::string(words[0]);
  for (std::size_t i = 1; i < words.size(); ++i) ext.params.emplace_back(words[i]);
  return ext;
}

void AddMechanisms(ExtensionSet& set, const std::vector<std::string_view>& mechs, bool* bad) {
  for (std::string_view m : mechs) {
    if (!IsSaslMech(m)) *bad = true;
    const bool seen = std::any_of(set.auth.begin(), set.auth.end(),
                                  [&](const std::string& a) { return EqualsIgnoreCase(a, m); });
    if (!seen) set.auth.emplace_back(m);
  }
}

void NoteKeyword(ExtensionSet& set, std::string upper) {
  if (!Contains(set.keywords, upper)) set.keywords.push_back(std::move(upper));
}

// Sets the typed field for a known keyword. Returns false if the keyword has
// no typed field. *bad is set when the params do not suit the keyword.
bool ApplyKnown(ExtensionSet& set, std::string_view upper,
                const std::vector<std::string_view>& params, bool* bad) {
  if (upper == "SIZE") {
    // RFC 1870 §4: size-param = [1*DIGIT]
    set.size_advertised = true;
    set.size.reset();  // a repeated SIZE line overrides the earlier one
    if (params.size() > 1) *bad = true;
    if (params.size() == 1) {
      std::uint64_t v = 0;
      bool ok = params[0].size() <= 20;
      for (char c : params[0]) {
        if (c < '0' || c > '9' || v > (UINT64_MAX - (c - '0')) / 10) {
          ok = false;
          break;
        }
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
      }
      if (ok) {
        set.size = v;
      } else {
        *bad = true;
      }
    }
    return true;
  }
  if (upper == "AUTH") {
    if (params.empty()) *bad = true;  // RFC 4954 §3: at least one mechanism
    AddMechanisms(set, params, bad);
    return true;
  }
  struct Flag {
    std::string_view keyword;
    bool ExtensionSet::*field;
  };
  static constexpr Flag kFlags[] = {
      {"PIPELINING", &ExtensionSet::pipelining},
      {"CHUNKING", &ExtensionSet::chunking},
      {"BINARYMIME", &ExtensionSet::binarymime},
      {"SMTPUTF8", &ExtensionSet::smtputf8},
      {"8BITMIME", &ExtensionSet::eightbitmime},
      {"DSN", &ExtensionSet::dsn},
      {"STARTTLS", &ExtensionSet::starttls},
      {"ENHANCEDSTATUSCODES", &ExtensionSet::enhancedstatuscodes},
  };
  for (const Flag& f : kFlags) {
    if (upper == f.keyword) {
      set.*f.field = true;
      if (!params.empty()) *bad = true;  // these take no parameters
      return true;
    }
  }
  return false;
}

// `lines_seen`: upper-cased keywords of earlier well-formed lines (an
// "AUTH=" line next to an "AUTH" line is usual, not a duplicate).
void DecodeLine(ExtensionSet& set, std::string_view line, std::vector<std::string>& lines_seen) {
  const std::vector<std::string_view> words = Words(line);

  // Pre-standard "AUTH=LOGIN PLAIN" (sent for old Outlook clients): not an
  // ehlo-keyword, but a well-known form; merged into `auth`.
  if (!words.empty() && StartsWithIgnoreCase(words[0], "AUTH=")) {
    std::vector<std::string_view> mechs;
    if (words[0].size() > 5) mechs.push_back(words[0].substr(5));
    mechs.insert(mechs.end(), words.begin() + 1, words.end());
    bool bad = mechs.empty();
    AddMechanisms(set, mechs, &bad);
    set.auth_old_style = true;
    NoteKeyword(set, "AUTH");
    if (bad) {
      EhloExtension ext = MakeExtension(words);
      ext.bad_params = true;
      set.others.push_back(std::move(ext));
    }
    return;
  }

  if (!IsWellFormedLine(line)) {
    EhloExtension ext = MakeExtension(words);
    ext.malformed = true;
    set.others.push_back(std::move(ext));
    return;
  }

  std::string upper = ToUpperCopy(words[0]);
  if (Contains(lines_seen, upper)) {
    if (!Contains(set.duplicates, upper)) set.duplicates.push_back(upper);
  } else {
    lines_seen.push_back(upper);
  }
  const std::vector<std::string_view> params(words.begin() + 1, words.end());
  bool bad = false;
  const bool known = ApplyKnown(set, upper, params, &bad);
  if (!known || bad) {
    EhloExtension ext = MakeExtension(words);
    ext.bad_params = bad;
    set.others.push_back(std::move(ext));
  }
  NoteKeyword(set, std::move(upper));
}

}  // namespace

bool ExtensionSet::Has(std::string_view keyword) const {
  return std::any_of(keywords.begin(), keywords.end(),
                     [&](const std::string& k) { return EqualsIgnoreCase(k, keyword); });
}

ExtensionSet DecodeEhlo(const Reply& reply) {
  ExtensionSet set;
  if (reply.code != 250 || reply.lines.empty()) return set;
  set.ok = true;

  // First line: Domain [ SP ehlo-greet ]
  const std::string_view first = reply.lines.front();
  const std::size_t sp = first.find(' ');
  set.domain = std::string(first.substr(0, sp));
  if (sp != std::string_view::npos) set.greeting = std::string(first.substr(sp + 1));
  set.bad_greeting = set.domain.empty();

  std::vector<std::string> lines_seen;
  for (std::size_t i = 1; i < reply.lines.size(); ++i) DecodeLine(set, reply.lines[i], lines_seen);
  return set;
}

}  // namespace smtp
