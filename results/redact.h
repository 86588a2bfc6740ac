// Redaction of secret values (passwords, AUTH blobs, tokens) in recorded bytes
// and in report texts. Pure string functions; the Transcript applies them to
// its data streams (Transcript::RedactStreams) and the runner to reasons and
// failures.
//
// What is hidden:
//   - every occurrence of every secret, overlapping occurrences merged into
//     one range (so "abcdef" with secrets "abcd" and "cdef" leaves nothing);
//   - a cut-off secret: where the recorded bytes stop (the end of a stream,
//     the transcript's storage cap, or a quote cut at kCutMarker), a trailing
//     proper prefix of a secret that is at least kMinRedactedFragment bytes
//     long. Shorter fragments are kept: they tell a reader at most
//     kMinRedactedFragment - 1 leading bytes of a secret, and a rule for them
//     would hide ordinary text that happens to end like a secret begins.
// Each hidden range becomes kRedactionMarker.
//
// Not hidden: a secret the peer transforms (re-encodes, reverses, splits with
// other bytes in between). The threat this guards against is an honest peer
// that echoes what it received, in whatever write sizes, not a peer that
// wants to publish the secret (it has it already).
#ifndef SMTP_RESULTS_REDACT_H_
#define SMTP_RESULTS_REDACT_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace smtp::harness {

inline constexpr std::string_view kRedactionMarker = "***";
// Where a quoted text was cut ("AUTH PLAIN AGFsa... (300 bytes)"): a secret
// fragment right before it is redacted like one at the end of the text.
inline constexpr std::string_view kCutMarker = "...";
// A cut-off secret prefix at least this long is redacted (see above).
inline constexpr std::size_t kMinRedactedFragment = 4;

// A half-open byte range [begin, end).
struct ByteRange {
  std::size_t begin = 0;
  std::size_t end = 0;
  friend bool operator==(const ByteRange&, const ByteRange&) = default;
};

// The ranges of `bytes` covered by occurrences of `secrets`, sorted,
// overlapping ranges merged (touching ones are kept apart: "passpass" is two
// ranges). Empty secrets are ignored.
std::vector<ByteRange> FindSecrets(std::string_view bytes, const std::vector<std::string>& secrets);

// The length of the longest suffix of `bytes` that is a proper prefix of one
// of `secrets` and at least kMinRedactedFragment long; 0 when there is none.
std::size_t SecretFragmentAtEnd(std::string_view bytes, const std::vector<std::string>& secrets);

// Adds `range` to `ranges` (sorted, overlapping ranges merged as by
// FindSecrets). An empty range is ignored.
void AddRange(ByteRange range, std::vector<ByteRange>* ranges);

// `bytes` with each of `ranges` (sorted, disjoint) replaced by kRedactionMarker.
std::string ReplaceRanges(std::string_view bytes, const std::vector<ByteRange>& ranges);

// Redacts a report text: every occurrence of a secret, and a cut-off secret
// fragment at the end of `text` and before each kCutMarker.
std::string RedactText(std::string_view text, const std::vector<std::string>& secrets);

// `secrets` plus, for each whose transcript notation (EscapeBytes) differs,
// that notation: texts quote bytes escaped ("pa\\ss", "\\xc3\\xa9"), so a
// secret with a backslash or a non-printable octet appears in them escaped.
std::vector<std::string> WithEscapedForms(const std::vector<std::string>& secrets);

}  // namespace smtp::harness

#endif  // SMTP_RESULTS_REDACT_H_
