#include "parser/enhanced_code.h"

#include <array>

namespace smtp {
namespace {

constexpr bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads one sub-code (1*3digit, no leading zero) at in[pos]. Returns the
// position after it, or sets *bad to the offending offset and returns 0.
std::size_t ReadSubCode(std::string_view in, std::size_t pos, std::uint16_t* value,
                        std::size_t* bad) {
  std::size_t i = pos;
  while (i < in.size() && IsDigit(in[i])) {
    const std::size_t n = i - pos;
    if (n == 3) {  // a fourth digit
      *bad = i;
      return 0;
    }
    if (n == 1 && in[pos] == '0') {  // leading zero ("01")
      *bad = i;
      return 0;
    }
    ++i;
  }
  if (i == pos) {  // no digit
    *bad = pos;
    return 0;
  }
  std::uint16_t v = 0;
  for (std::size_t k = pos; k < i; ++k) v = static_cast<std::uint16_t>(v * 10 + (in[k] - '0'));
  *value = v;
  return i;
}

// Shared by Parse and ParseEnhancedCode: length of the code, or 0 with *bad
// set to the first offending offset.
std::size_t ParsePrefix(std::string_view in, EnhancedCode* out, std::size_t* bad) {
  if (in.empty() || (in[0] != '2' && in[0] != '4' && in[0] != '5')) {
    *bad = 0;
    return 0;
  }
  if (in.size() < 2 || in[1] != '.') {
    *bad = 1;
    return 0;
  }
  EnhancedCode code;
  code.klass = static_cast<std::uint8_t>(in[0] - '0');
  std::size_t pos = ReadSubCode(in, 2, &code.subject, bad);
  if (pos == 0) return 0;
  if (pos >= in.size() || in[pos] != '.') {
    *bad = pos;
    return 0;
  }
  pos = ReadSubCode(in, pos + 1, &code.detail, bad);
  if (pos == 0) return 0;
  *out = code;
  return pos;
}

struct Entry {
  std::uint16_t subject;
  std::uint16_t detail;
  std::string_view text;
};

// RFC 3463 §3 plus later registrations (IANA "SMTP Enhanced Status Codes",
// RFC 5248). Sorted by (subject, detail).
constexpr std::array kDetails = {
    Entry{0, 0, "Other undefined Status"},
    Entry{1, 0, "Other address status"},
    Entry{1, 1, "Bad destination mailbox address"},
    Entry{1, 2, "Bad destination system address"},
    Entry{1, 3, "Bad destination mailbox address syntax"},
    Entry{1, 4, "Destination mailbox address ambiguous"},
    Entry{1, 5, "Destination address valid"},
    Entry{1, 6, "Destination mailbox has moved, No forwarding address"},
    Entry{1, 7, "Bad sender's mailbox address syntax"},
    Entry{1, 8, "Bad sender's system address"},
    Entry{1, 9, "Message relayed to non-compliant mailer"},  // RFC 3886
    Entry{1, 10, "Recipient address has null MX"},           // RFC 7505
    Entry{2, 0, "Other or undefined mailbox status"},
    Entry{2, 1, "Mailbox disabled, not accepting messages"},
    Entry{2, 2, "Mailbox full"},
    Entry{2, 3, "Message length exceeds administrative limit"},
    Entry{2, 4, "Mailing list expansion problem"},
    Entry{3, 0, "Other or undefined mail system status"},
    Entry{3, 1, "Mail system full"},
    Entry{3, 2, "System not accepting network messages"},
    Entry{3, 3, "System not capable of selected features"},
    Entry{3, 4, "Message too big for system"},
    Entry{3, 5, "System incorrectly configured"},
    Entry{3, 6, "Requested priority was changed"},  // RFC 6710
    Entry{4, 0, "Other or undefined network or routing status"},
    Entry{4, 1, "No answer from host"},
    Entry{4, 2, "Bad connection"},
    Entry{4, 3, "Directory server failure"},
    Entry{4, 4, "Unable to route"},
    Entry{4, 5, "Mail system congestion"},
    Entry{4, 6, "Routing loop detected"},
    Entry{4, 7, "Delivery time expired"},
    Entry{5, 0, "Other or undefined protocol status"},
    Entry{5, 1, "Invalid command"},
    Entry{5, 2, "Syntax error"},
    Entry{5, 3, "Too many recipients"},
    Entry{5, 4, "Invalid command arguments"},
    Entry{5, 5, "Wrong protocol version"},
    Entry{5, 6, "Authentication Exchange line is too long"},  // RFC 4954
    Entry{6, 0, "Other or undefined media error"},
    Entry{6, 1, "Media not supported"},
    Entry{6, 2, "Conversion required and prohibited"},
    Entry{6, 3, "Conversion required but not supported"},
    Entry{6, 4, "Conversion with loss performed"},
    Entry{6, 5, "Conversion Failed"},
    Entry{6, 6, "Message content not available"},                                // RFC 4468
    Entry{6, 7, "Non-ASCII addresses not permitted for that sender/recipient"},  // RFC 6531
    Entry{6, 8, "UTF-8 string reply is required, but not permitted by the SMTP client"},
    Entry{6, 9, "UTF-8 header message cannot be transferred to one or more recipients"},
    Entry{6, 10, "UTF-8 string reply is required, but not permitted by the SMTP client"},
    Entry{7, 0, "Other or undefined security status"},
    Entry{7, 1, "Delivery not authorized, message refused"},
    Entry{7, 2, "Mailing list expansion prohibited"},
    Entry{7, 3, "Security conversion required but not possible"},
    Entry{7, 4, "Security features not supported"},
    Entry{7, 5, "Cryptographic failure"},
    Entry{7, 6, "Cryptographic algorithm not supported"},
    Entry{7, 7, "Message integrity failure"},
    Entry{7, 8, "Authentication credentials invalid"},                           // RFC 4954
    Entry{7, 9, "Authentication mechanism is too weak"},                         // RFC 4954
    Entry{7, 10, "Encryption Needed"},                                           // RFC 5248
    Entry{7, 11, "Encryption required for requested authentication mechanism"},  // RFC 4954
    Entry{7, 12, "A password transition is needed"},                             // RFC 4954
    Entry{7, 13, "User Account Disabled"},                                       // RFC 5248
    Entry{7, 14, "Trust relationship required"},                                 // RFC 5248
    Entry{7, 15, "Priority Level is too low"},                                   // RFC 6710
    Entry{7, 16, "Message is too big for the specified priority"},               // RFC 6710
    Entry{7, 17, "Mailbox owner has changed"},                                   // RFC 7293
    Entry{7, 18, "Domain owner has changed"},                                    // RFC 7293
    Entry{7, 19, "RRVS test cannot be completed"},                               // RFC 7293
    Entry{7, 20, "No passing DKIM signature found"},                             // RFC 7372
    Entry{7, 21, "No acceptable DKIM signature found"},
    Entry{7, 22, "No valid author-matched DKIM signature found"},
    Entry{7, 23, "SPF validation failed"},
    Entry{7, 24, "SPF validation error"},
    Entry{7, 25, "Reverse DNS validation failed"},
    Entry{7, 26, "Multiple authentication checks failed"},
    Entry{7, 27, "Sender address has null MX"},   // RFC 7505
    Entry{7, 29, "ARC validation failure"},       // RFC 8617
    Entry{7, 30, "REQUIRETLS support required"},  // RFC 8689
};

constexpr bool Sorted() {
  for (std::size_t i = 1; i < kDetails.size(); ++i) {
    const Entry& a = kDetails[i - 1];
    const Entry& b = kDetails[i];
    if (a.subject > b.subject || (a.subject == b.subject && a.detail >= b.detail)) return false;
  }
  return true;
}
static_assert(Sorted(), "kDetails must be sorted by (subject, detail)");

}  // namespace

std::size_t EnhancedCode::Parse(std::string_view in, EnhancedCode* out) {
  std::size_t bad = 0;
  return ParsePrefix(in, out, &bad);
}

std::string EnhancedCode::ToString() const {
  std::string s;
  s.reserve(11);
  s += static_cast<char>('0' + klass);
  s += '.';
  s += std::to_string(subject);
  s += '.';
  s += std::to_string(detail);
  return s;
}

Result<EnhancedCode> ParseEnhancedCode(std::string_view whole) {
  EnhancedCode code;
  std::size_t bad = 0;
  const std::size_t n = ParsePrefix(whole, &code, &bad);
  if (n == 0) return ParseError{Errc::kBadEnhancedCode, bad, "RFC 3463 §2 status-code"};
  if (n != whole.size()) {
    return ParseError{Errc::kBadEnhancedCode, n, "RFC 3463 §2: bytes after status-code"};
  }
  return code;
}

std::string_view EnhancedSubjectName(std::uint16_t subject) {
  switch (subject) {
    case 0:
      return "Other or Undefined Status";
    case 1:
      return "Addressing Status";
    case 2:
      return "Mailbox Status";
    case 3:
      return "Mail System Status";
    case 4:
      return "Network and Routing Status";
    case 5:
      return "Mail Delivery Protocol Status";
    case 6:
      return "Message Content or Media Status";
    case 7:
      return "Security or Policy Status";
    default:
      return "";
  }
}

std::string_view EnhancedDetailName(std::uint16_t subject, std::uint16_t detail) {
  std::size_t lo = 0;
  std::size_t hi = kDetails.size();
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    const Entry& e = kDetails[mid];
    if (e.subject < subject || (e.subject == subject && e.detail < detail)) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo < kDetails.size() && kDetails[lo].subject == subject && kDetails[lo].detail == detail) {
    return kDetails[lo].text;
  }
  return "";
}

std::string Describe(const EnhancedCode& code) {
  std::string s = code.ToString();
  std::string_view text = EnhancedDetailName(code.subject, code.detail);
  if (text.empty()) text = EnhancedSubjectName(code.subject);
  if (!text.empty()) {
    s += ' ';
    s += text;
  }
  return s;
}

}  // namespace smtp
