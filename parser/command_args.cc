// The arguments of AUTH (RFC 4954), BDAT (RFC 3030), ETRN (RFC 1985) and of
// unknown verbs. The decisions the RFCs leave open are listed at the top of
// command.cc.
#include "parser/internal/command_parser.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "parser/ascii.h"
#include "parser/internal/base64_check.h"
#include "parser/internal/command_chars.h"
#include "parser/internal/path_chars.h"

namespace smtp::internal {
namespace {

// RFC 4422 §3.1: mechanism names are 1 to 20 characters.
constexpr std::size_t kMaxSaslMechanism = 20;

}  // namespace

// auth = "AUTH" SP sasl-mech [SP initial-response] CRLF          (RFC 4954 §4)
// sasl-mech = 1*20 (UPPER-ALPHA / DIGIT / "-" / "_")             (RFC 4422 §3.1)
bool CommandParser::Auth(std::size_t pos) {
  bool has_arg = false;
  if (!Argument(pos, has_arg, Errc::kBadAuthMechanism)) return false;
  if (!has_arg) return FailAs(Errc::kMissingArgument, pos, "RFC 4954 §4: mechanism required");
  // The mechanism's octets, then the first error from the left: an octet
  // past the twentieth (when those are all sasl-mech octets) or one that is
  // neither a sasl-mech octet nor the separator.
  std::size_t i = internal::SkipClass(body, pos, internal::kSaslBit);
  if (i - pos > kMaxSaslMechanism) {
    return FailAs(Errc::kBadAuthMechanism, pos + kMaxSaslMechanism,
                  "RFC 4422 §3.1: mechanism longer than 20");
  }
  if (i < n() && !IsWsp(body[i])) {
    return Fail(Errc::kBadAuthMechanism, i, "RFC 4422 §3.1: mechanism octet not allowed");
  }
  c.auth_mechanism = body.substr(pos, i - pos);
  if (i == n()) return true;
  if (!Sep(i, Errc::kBadInitialResponse)) return false;
  // The response ends at SP / HTAB or the end. Its base64-chars are scanned
  // once: CheckBase64 starts after them.
  const std::size_t data_end = internal::SkipClass(body, i, internal::kBase64Bit);
  std::size_t j = data_end;
  while (j < n() && !IsWsp(body[j])) ++j;
  const std::string_view response = body.substr(i, j - i);
  // initial-response = base64 / "="                             (RFC 4954 §4)
  if (response != "=") {
    if (const auto bad = internal::CheckBase64(response, data_end - i)) {
      return Fail(Errc::kBadInitialResponse, i + bad->offset, bad->reason);
    }
  }
  c.auth_initial_response = response;
  c.has_initial_response = true;
  return End(j, Errc::kBadInitialResponse);
}

// bdat = "BDAT" SP chunk-size [ SP end-marker ] CRLF
// chunk-size = 1*DIGIT ; end-marker = "LAST"                     (RFC 3030 §2)
bool CommandParser::Bdat(std::size_t pos) {
  bool has_arg = false;
  if (!Argument(pos, has_arg, Errc::kBadChunkSize)) return false;
  if (!has_arg) return FailAs(Errc::kMissingArgument, pos, "RFC 3030 §2: chunk-size required");
  std::size_t i = pos;
  std::uint64_t size = 0;
  for (; i < n() && IsDigit(body[i]); ++i) {
    const auto d = static_cast<std::uint64_t>(body[i] - '0');
    if (size > (UINT64_MAX - 9) / 10 && size > (UINT64_MAX - d) / 10) {
      return FailAs(Errc::kBadChunkSize, i, "RFC 3030 §2: chunk-size exceeds 2^64-1");
    }
    size = size * 10 + d;
  }
  if (i == pos || (i < n() && !IsWsp(body[i]))) {
    return Fail(Errc::kBadChunkSize, i, "RFC 3030 §2 chunk-size: expected DIGIT");
  }
  c.chunk_size = size;
  if (i == n()) return true;
  if (!Sep(i, Errc::kBadBdatLast)) return false;
  constexpr std::string_view kLast = "LAST";
  // One folded word (exact: only "L" and "l" fold to "l", ...); the loop
  // finds where a misspelling starts.
  const bool last =
      i + 4 <= n() && internal::LoadFolded4(body.data() + i) == internal::Tag4("last");
  for (std::size_t k = last ? kLast.size() : 0; k < kLast.size(); ++k) {
    if (i + k == n() || ToUpper(body[i + k]) != kLast[k]) {
      return Fail(Errc::kBadBdatLast, i + k, "RFC 3030 §2: end-marker must be \"LAST\"");
    }
  }
  c.bdat_last = true;
  return End(i + kLast.size(), Errc::kBadBdatLast);
}

// etrn = "ETRN" SP node-name CRLF
// node-name = Domain / "@" Domain / "#" queue-name              (RFC 1985 §5)
bool CommandParser::Etrn(std::size_t pos) {
  bool has_arg = false;
  if (!Argument(pos, has_arg, Errc::kBadEtrnArg)) return false;
  if (!has_arg) return FailAs(Errc::kMissingArgument, pos, "RFC 1985 §5: node name required");
  std::size_t end = pos + 1;
  if (body[pos] == '#') {
    while (end < n() && body[end] > ' ' && body[end] < 127) ++end;
    if (end == pos + 1) return Fail(Errc::kBadEtrnArg, end, "RFC 1985 §5: empty queue name");
  } else if (!Domain(body[pos] == '@' ? pos + 1 : pos, end, Errc::kBadEtrnArg)) {
    return false;
  }
  c.text = body.substr(pos, end - pos);
  return End(end, Errc::kBadEtrnArg);
}

// Unknown verb: the argument is the raw text after one SP. Trailing SP /
// HTAB is refused as for every verb (else kTrailingWhitespace, which strips
// it, would change the argument of a line that strict mode accepts).
bool CommandParser::Unknown(std::size_t pos) {
  if (pos == n()) return true;
  if (body[pos] == '\t' && !Allow(kExtraWhitespace)) {
    return FailAs(Errc::kMissingSpace, pos, "RFC 5321 §4.1.1: separator must be SP, not HTAB");
  }
  c.argument = body.substr(++pos);
  while (pos < n()) {
    if (IsHigh(body[pos])) {
      if (!opts.utf8) return Fail(Errc::kEightBit, pos, "8-bit octet without SMTPUTF8");
      const std::size_t len = internal::Utf8SequenceLength(body, pos);
      if (len == 0) return FailAs(Errc::kBadUtf8, pos, "RFC 3629 §4: ill-formed UTF-8 sequence");
      pos += len;
    } else if (IsCtl(body[pos]) && body[pos] != '\t') {
      return Fail(Errc::kControlChar, pos, "control character in an argument");
    } else {
      ++pos;
    }
  }
  const std::size_t keep = EndWithoutWsp(body);  // > 0: the verb is not WSP
  if (keep != n()) return TrailingWsp(keep);
  return true;
}

}  // namespace smtp::internal
