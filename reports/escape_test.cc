#include "reports/escape.h"

#include <set>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace smtp::reports {
namespace {

using namespace std::string_literals;

struct Case {
  std::string in;
  std::string want;
};

TEST(HtmlEscape, Table) {
  const Case cases[] = {
      {"plain text", "plain text"},
      {"<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"},
      {"\"><img src=x onerror=alert(1)>", "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"},
      {"a & b 'c'", "a &amp; b &#39;c&#39;"},
      {"&amp;", "&amp;amp;"},
      {"nul\0here"s, "nul\xEF\xBF\xBDhere"},
      {"caf\xC3\xA9", "caf\xC3\xA9"},
  };
  for (const auto& c : cases) EXPECT_EQ(HtmlEscape(c.in), c.want) << c.in;
}

TEST(XmlEscape, ContentTable) {
  const Case cases[] = {
      {"250 OK", "250 OK"},
      {"<a href=\"x\">&'", "&lt;a href=\"x\"&gt;&amp;'"},
      {"]]>", "]]&gt;"},
      {"tab\there\nline", "tab\there\nline"},  // legal whitespace kept
      {"cr\r", "cr&#13;"},                     // survives line-end normalisation
      {"nul\0x"s, "nul\\x00x"},                // C0 control: made visible
      {"\x1b[31mred", "\\x1b[31mred"},         // terminal escape
      {"\x7f del", "\x7f del"},                // DEL is a legal XML 1.0 Char
      {"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x93\xA7", "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x93\xA7"},
      {"\xff\xfe", "\\xff\\xfe"},                    // not UTF-8
      {"\xC0\xAF", "\\xc0\\xaf"},                    // overlong '/'
      {"\xED\xA0\x80", "\\xed\\xa0\\x80"},           // UTF-16 surrogate
      {"\xEF\xBF\xBE", "\\xef\\xbf\\xbe"},           // U+FFFE: not a Char
      {"\xEF\xBF\xBF", "\\xef\\xbf\\xbf"},           // U+FFFF: not a Char
      {"\xEF\xBF\xBD", "\xEF\xBF\xBD"},              // U+FFFD is fine
      {"cut \xE2\x82", "cut \\xe2\\x82"},            // truncated sequence
      {"\xF4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"},  // above U+10FFFF
      {"\xC3", "\\xc3"},
  };
  for (const auto& c : cases) EXPECT_EQ(XmlEscape(c.in), c.want) << c.in;
}

TEST(XmlEscape, AttributeTable) {
  const Case cases[] = {
      {"a\"b'c", "a&quot;b&#39;c"},
      {"l1\nl2\tx\r", "l1&#10;l2&#9;x&#13;"},
      {"<x>", "&lt;x&gt;"},
      {"\x01", "\\x01"},
  };
  for (const auto& c : cases) EXPECT_EQ(XmlEscape(c.in, /*attribute=*/true), c.want) << c.in;
}

// Every output byte is either printable ASCII, legal whitespace, or part of
// a well-formed UTF-8 character: exhaustive over all single bytes and all
// byte pairs.
TEST(XmlEscape, NoIllegalOutputForAnyShortInput) {
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      const std::string in{static_cast<char>(a), static_cast<char>(b)};
      const std::string out = XmlEscape(in, /*attribute=*/(a + b) % 2 == 0);
      for (unsigned char c : out) {
        ASSERT_TRUE(c >= 0x20 || c == '\t' || c == '\n') << a << "," << b;
      }
      ASSERT_EQ(out.find('<'), std::string::npos);
    }
  }
}

TEST(JsonForScript, NeutralisesScriptEnds) {
  const std::string payloads[] = {
      "</script><script>alert(1)</script>", "<!--",         "<\\/script>", "a&b>c",
      "\xE2\x80\xA8 line separator",        "bad \xff utf8"};
  for (const auto& p : payloads) {
    nlohmann::json j = {{"banner", p}, {"list", {p, p}}};
    const std::string out = JsonForScript(j);
    EXPECT_EQ(out.find('<'), std::string::npos) << out;
    EXPECT_EQ(out.find('>'), std::string::npos) << out;
    EXPECT_EQ(out.find('&'), std::string::npos) << out;
    for (unsigned char c : out) EXPECT_LT(c, 0x80) << out;
    // It is still JSON meaning the same (invalid UTF-8 replaced).
    nlohmann::json back = nlohmann::json::parse(out);
    if (p.find('\xff') == std::string::npos) {
      EXPECT_EQ(back, j);
    } else {
      EXPECT_EQ(back["banner"], "bad \xEF\xBF\xBD utf8");
    }
  }
}

TEST(Substitute, Table) {
  struct S {
    std::string tmpl;
    std::string want;
  } cases[] = {
      {"<p>{{A}}</p>", "<p>alpha</p>"},
      {"{{A}}{{B}}", "alpha{{A}}"},  // substituted text is not re-scanned
      {"{{C}} stays", "{{C}} stays"},
      {"{{A", "{{A"},
      {"x}}{{A}}", "x}}alpha"},
      {"{{{{A}}", "{{alpha"},
      {"", ""},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(Substitute(c.tmpl, {{"A", "alpha"}, {"B", "{{A}}"}}), c.want) << c.tmpl;
  }
}

TEST(PercentEncodePath, Table) {
  const std::pair<std::string, std::string> cases[] = {
      {"postfix/index.html", "postfix/index.html"},
      {"../a_b-c~d/index.html", "../a_b-c~d/index.html"},
      {"javascript:alert(1)/index.html", "javascript%3Aalert%281%29/index.html"},
      {"a b#c?d%e&f\"<>'", "a%20b%23c%3Fd%25e%26f%22%3C%3E%27"},
      {std::string("/abs/\xff\0", 7), "/abs/%FF%00"},
      {"", ""},
  };
  for (const auto& [in, want] : cases) EXPECT_EQ(PercentEncodePath(in), want) << in;
}

TEST(RandomNonce, FreshAndUrlSafe) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const std::string n = RandomNonce();
    ASSERT_EQ(n.size(), 22u);
    for (char c : n)
      ASSERT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_');
    seen.insert(n);
  }
  EXPECT_EQ(seen.size(), 100u);
}

}  // namespace
}  // namespace smtp::reports
