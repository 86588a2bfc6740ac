// Escaping for every output format reports/ writes. Server-controlled text
// (banners, replies, EHLO lines, scenario text from third-party suites) only
// ever reaches a report through one of these functions.
#ifndef SMTP_REPORTS_ESCAPE_H_
#define SMTP_REPORTS_ESCAPE_H_

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json_fwd.hpp>

namespace smtp::reports {

// Text for HTML element content or a double- or single-quoted attribute:
// & < > " ' become character references. Bytes are otherwise passed through;
// NUL becomes U+FFFD (the HTML parser would do the same, but say so).
std::string HtmlEscape(std::string_view text);

// Text for XML 1.0 element content or attribute values (JUnit XML):
//   - & < > become entity references, and " ' too in attributes;
//   - CR becomes &#13; and, in attributes, TAB/LF become &#9; &#10; (kept
//     through line-end and attribute-value normalisation);
//   - characters XML 1.0 forbids (C0 controls other than TAB/LF/CR,
//     U+FFFE/U+FFFF, surrogates) and bytes that are not valid UTF-8 become
//     the visible text "\xHH" per byte, so nothing is lost silently and
//     every consumer (Jenkins, GitLab) can load the file.
// XML 1.0 §2.2: Char ::= #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD]
//                        | [#x10000-#x10FFFF]
std::string XmlEscape(std::string_view text, bool attribute = false);

// JSON text safe to place between <script type="application/json"> and
// </script>: ASCII only, and '<', '>', '&' written as \u003c, \u003e,
// \u0026, so no "</script", "<!--" or "<script" sequence can occur.
// Invalid UTF-8 is replaced with U+FFFD instead of throwing.
std::string JsonForScript(const nlohmann::json& j);

// Single-pass template expansion: each "{{NAME}}" whose NAME is in `vars`
// is replaced by its value; substituted text is never re-scanned, so data
// containing "{{...}}" stays literal. Unknown placeholders are left as they
// are.
std::string Substitute(std::string_view tmpl,
                       std::initializer_list<std::pair<std::string_view, std::string_view>> vars);

// A relative or absolute path as a URL path: every byte other than the
// unreserved characters (RFC 3986 §2.3: ALPHA DIGIT - . _ ~) and '/' is
// percent-encoded, so the result has no scheme (':'), query ('?') or
// fragment ('#') and names exactly the file.
std::string PercentEncodePath(std::string_view path);

// A fresh random token (base64url, 128 bits) for a CSP script nonce.
std::string RandomNonce();

}  // namespace smtp::reports

#endif  // SMTP_REPORTS_ESCAPE_H_
