#include "harness/record/tls_watch.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "results/absl_compat.h"

namespace smtp::harness::pcap {
namespace {

constexpr char kTlsHandshake = 0x16;  // TLS record type of a ClientHello

std::string_view StripEol(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

// Appends `piece` to `line` up to kMaxLine bytes; sets `*long_line` beyond.
void Append(std::string& line, bool* long_line, std::string_view piece) {
  const std::size_t room = TlsWatch::kMaxLine - std::min(line.size(), TlsWatch::kMaxLine);
  if (piece.size() > room) *long_line = true;
  line.append(piece.substr(0, room));
}

// Feeds `data` to the line assembler of one side; calls on_line(line) for
// each complete line and stops early when it returns true. Returns the bytes
// of `data` consumed (all, unless stopped). `skip` bytes (a BDAT chunk) are
// passed over first.
template <typename OnLine>
std::size_t Lines(std::string_view data, std::string& line, bool* long_line, std::uint64_t* skip,
                  OnLine on_line) {
  std::size_t i = 0;
  while (i < data.size()) {
    if (skip != nullptr && *skip > 0) {
      const std::size_t n =
          static_cast<std::size_t>(std::min<std::uint64_t>(*skip, data.size() - i));
      i += n;
      *skip -= n;
      continue;
    }
    const std::size_t nl = data.find('\n', i);
    if (nl == std::string_view::npos) {
      Append(line, long_line, data.substr(i));
      return data.size();
    }
    Append(line, long_line, data.substr(i, nl + 1 - i));
    i = nl + 1;
    const bool stop = on_line(StripEol(line), *long_line);
    line.clear();
    *long_line = false;
    if (stop) return i;
  }
  return data.size();
}

}  // namespace

std::size_t TlsWatch::Client(std::string_view data) {
  if (opaque_) return 0;
  if (data.empty()) return 0;
  if (!seen_client_ && !seen_server_ && data[0] == kTlsHandshake) {
    opaque_ = true;
    why_ = "implicit TLS: the client began with a TLS handshake, not after a greeting";
    return 0;
  }
  seen_client_ = true;
  return Lines(data, client_line_, &client_long_, &bdat_left_,
               [this](std::string_view line, bool long_line) {
                 if (!long_line)
                   ClientLine(line);
                 else if (!in_body_)
                   ++commands_;
                 return false;
               });
}

// RFC 5321 §4.1.1.4 DATA: the body ends with a line holding "."; RFC 3030
// §2: "BDAT" SP chunk-size [SP end-marker], then chunk-size octets.
// RFC 3207 §4: starttls = "STARTTLS" CRLF.
void TlsWatch::ClientLine(std::string_view line) {
  if (in_body_) {
    if (line == ".") {
      in_body_ = false;
      ++commands_;
    }
    return;
  }
  ++commands_;
  const std::string_view trimmed = StripEol(line);
  const std::size_t sp = trimmed.find(' ');
  const std::string_view verb = trimmed.substr(0, sp);
  if (absl::EqualsIgnoreCase(AV(verb), "STARTTLS") &&
      absl::StripAsciiWhitespace(AV(trimmed.substr(verb.size()))).empty()) {
    starttls_reply_ = aligned_ ? commands_ : replies_;
  } else if (absl::EqualsIgnoreCase(AV(verb), "BDAT") && sp != std::string_view::npos) {
    std::string_view rest = trimmed.substr(sp + 1);
    rest = rest.substr(0, rest.find(' '));
    std::uint64_t size = 0;
    if (absl::SimpleAtoi(AV(rest), &size)) bdat_left_ = size;
  }
}

std::size_t TlsWatch::Server(std::string_view data) {
  if (opaque_) return 0;
  if (data.empty()) return 0;
  seen_server_ = true;
  return Lines(data, server_line_, &server_long_, nullptr,
               [this](std::string_view line, bool) { return ServerLine(line); });
}

// RFC 5321 §4.2: Reply-line = *( Reply-code "-" [ textstring ] CRLF )
//                  Reply-code [ SP textstring ] CRLF
bool TlsWatch::ServerLine(std::string_view line) {
  if (line.size() < 3 || !absl::ascii_isdigit(line[0]) || !absl::ascii_isdigit(line[1]) ||
      !absl::ascii_isdigit(line[2])) {
    return false;
  }
  if (line.size() > 3 && line[3] != ' ') return false;  // "250-" continues
  const std::uint64_t ordinal = replies_++;
  const std::string_view code = line.substr(0, 3);
  if (code == "354") in_body_ = true;
  if (!starttls_reply_ || ordinal < *starttls_reply_) return false;
  if (ordinal == *starttls_reply_ && code == "220") {
    opaque_ = true;
    why_ = "STARTTLS accepted (220): the rest of the session is encrypted";
    return true;
  }
  starttls_reply_.reset();
  return false;
}

void TlsWatch::Gap() {
  client_line_.clear();
  server_line_.clear();
  client_long_ = server_long_ = false;
  aligned_ = false;
  if (starttls_reply_) starttls_reply_ = replies_;
}

}  // namespace smtp::harness::pcap
