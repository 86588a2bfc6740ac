#include "harness/record/follower.h"

#include <charconv>
#include <cstring>
#include <string>

#include "parser/ascii.h"
#include "parser/leniency.h"

namespace smtp::record {
namespace {

LineReader MakeLineReader(std::size_t max_line) {
  LineReaderOptions o;
  o.leniencies = kBareLfLineEnd;
  o.max_line = max_line;
  return LineReader(o);
}

// The first word of `line` and what follows the single space after it.
std::string_view Word(std::string_view line, std::string_view* rest) {
  const std::size_t sp = line.find(' ');
  if (sp == std::string_view::npos) {
    *rest = {};
    return line;
  }
  *rest = line.substr(sp + 1);
  return line.substr(0, sp);
}

// The reply code of a reply's last line ("250 ok", "250"), or -1 for a
// continuation line ("250-ok") or anything else.
//   Reply-line = *( Reply-code "-" [ textstring ] CRLF )
//                Reply-code [ SP textstring ] CRLF      (RFC 5321 §4.2)
int FinalReplyCode(std::string_view line) {
  if (line.size() < 3 || (line.size() > 3 && line[3] != ' ')) return -1;
  int code = 0;
  for (int i = 0; i < 3; ++i) {
    if (line[i] < '0' || line[i] > '9') return -1;
    code = code * 10 + (line[i] - '0');
  }
  return code;
}

constexpr std::string_view kEndOfData = "\r\n.\r\n";
constexpr char kTlsHandshake = 0x16;  // TLS record type of a ClientHello (RFC 8446 §5.1)

}  // namespace

SessionFollower::SessionFollower(Options options)
    : options_(options),
      client_lines_(MakeLineReader(options.max_line)),
      server_lines_(MakeLineReader(options.max_line)),
      aligned_(!options.midstream),
      greeted_(options.midstream) {}

bool SessionFollower::starttls_outstanding() const {
  for (Pending p : pending_) {
    if (p == Pending::kStartTls) return true;
  }
  return false;
}

void SessionFollower::RestartAfterTls() {
  client_lines_.Reset();
  server_lines_.Reset();
  mode_ = ClientMode::kCommands;
  pending_.clear();
  auth_response_due_ = false;
  tls_accepted_ = false;
  why_.clear();
  greeted_ = true;  // RFC 3207 §4.2: no new greeting
}

void SessionFollower::Gap() {
  client_lines_.Reset();
  server_lines_.Reset();
  if (mode_ == ClientMode::kBody) body_match_ = 0;  // where in the body is unknown
  if (aligned_) {
    const bool starttls = starttls_outstanding();
    aligned_ = false;
    pending_.clear();
    if (starttls) pending_.push_back(Pending::kStartTls);
  }
}

std::size_t SessionFollower::FeedClient(std::string_view bytes) {
  if (tls_accepted_) return 0;
  if (bytes.empty()) return npos;
  if (options_.detect_implicit_tls && !seen_client_ && !seen_server_ && bytes[0] == kTlsHandshake) {
    tls_accepted_ = true;
    why_ = "implicit TLS: the client began with a TLS handshake, not after a greeting";
    return 0;
  }
  seen_client_ = true;
  while (!bytes.empty()) {
    switch (mode_) {
      case ClientMode::kChunk: {
        const std::size_t n =
            chunk_left_ < bytes.size() ? static_cast<std::size_t>(chunk_left_) : bytes.size();
        chunk_left_ -= n;
        bytes.remove_prefix(n);
        if (chunk_left_ == 0) mode_ = ClientMode::kCommands;
        break;
      }
      case ClientMode::kBody: {
        // <CRLF>.<CRLF>, matched across chunks; on a mismatch only a CR can
        // start the sequence again (the pattern has no other self-overlap).
        std::size_t i = 0;
        while (i < bytes.size() && body_match_ < static_cast<int>(kEndOfData.size())) {
          if (body_match_ == 0) {
            const void* cr = std::memchr(bytes.data() + i, '\r', bytes.size() - i);
            if (cr == nullptr) {
              i = bytes.size();
              break;
            }
            i = static_cast<std::size_t>(static_cast<const char*>(cr) - bytes.data());
          }
          const char c = bytes[i++];
          if (c == kEndOfData[body_match_]) {
            ++body_match_;
          } else {
            body_match_ = c == '\r' ? 1 : 0;
          }
        }
        bytes.remove_prefix(i);
        if (body_match_ == static_cast<int>(kEndOfData.size())) mode_ = ClientMode::kCommands;
        break;
      }
      case ClientMode::kCommands: {
        const std::size_t n = client_lines_.Feed(bytes);
        bytes.remove_prefix(n);
        if (client_lines_.has_line()) {
          OnClientLine(client_lines_.line(), client_lines_.error().code != Errc::kOk);
        }
        break;
      }
    }
  }
  return npos;
}

void SessionFollower::OnClientLine(std::string_view line, bool too_long) {
  if (auth_response_due_) {
    // RFC 4954 §4: the client's answer to a 334 challenge, base64 or "*".
    auth_response_due_ = false;
    if (too_long) {
      secret_lost_ = true;
    } else if (line != "*") {
      AddSecret(line);
    }
    return;
  }
  ++commands_;
  if (too_long) {
    if (!aligned_) return;
    if (pending_.size() < options_.max_pending) pending_.push_back(Pending::kOther);
    return;
  }
  std::string_view rest;
  const std::string_view verb = Word(line, &rest);
  Pending p = Pending::kOther;
  if (EqualsIgnoreCase(verb, "AUTH")) {
    // AUTH SP sasl-mech [SP initial-response]     (RFC 4954 §4)
    p = Pending::kAuth;
    std::string_view initial;
    Word(rest, &initial);
    if (!initial.empty() && initial != "=") AddSecret(initial);
  } else if (EqualsIgnoreCase(verb, "DATA")) {
    p = Pending::kData;
  } else if (EqualsIgnoreCase(verb, "STARTTLS")) {
    p = Pending::kStartTls;
  } else if (EqualsIgnoreCase(verb, "BDAT")) {
    // bdat-cmd = "BDAT" SP chunk-size [ SP end-marker ] CR LF   (RFC 3030 §2)
    std::string_view size_text;
    std::string_view size = Word(rest, &size_text);
    std::uint64_t n = 0;
    const auto [ptr, ec] = std::from_chars(size.data(), size.data() + size.size(), n);
    if (ec == std::errc() && ptr == size.data() + size.size() && n > 0) {
      chunk_left_ = n;
      mode_ = ClientMode::kChunk;
    }
  }
  if (!aligned_) {
    // Only a STARTTLS is matched (to the next complete reply).
    if (p == Pending::kStartTls) pending_.assign(1, p);
    return;
  }
  if (pending_.size() < options_.max_pending) pending_.push_back(p);
}

void SessionFollower::AddSecret(std::string_view token) {
  if (secret_bytes_ + token.size() > options_.max_secret_bytes) {
    secret_lost_ = true;
    return;
  }
  secret_bytes_ += token.size();
  secrets_.emplace_back(token);
}

std::size_t SessionFollower::FeedServer(std::string_view bytes) {
  const std::size_t total = bytes.size();
  if (!bytes.empty()) seen_server_ = true;
  while (!bytes.empty() && !tls_accepted_) {
    const std::size_t n = server_lines_.Feed(bytes);
    bytes.remove_prefix(n);
    if (!server_lines_.has_line() || server_lines_.error().code != Errc::kOk) continue;
    const int code = FinalReplyCode(server_lines_.line());
    if (code >= 0) OnReply(code);
  }
  return tls_accepted_ ? total - bytes.size() : npos;
}

void SessionFollower::OnReply(int code) {
  ++replies_;
  if (!greeted_) {
    greeted_ = true;
    return;
  }
  if (!aligned_) {
    OnReplyUnaligned(code);
    return;
  }
  if (pending_.empty()) return;  // unsolicited (a 421 before closing)
  const Pending p = pending_.front();
  if (p == Pending::kAuth && code == 334) {
    auth_response_due_ = true;  // the AUTH stays pending until its final reply
    return;
  }
  pending_.pop_front();
  if (p == Pending::kData && code == 354) {
    mode_ = ClientMode::kBody;
    body_match_ = 2;  // the body starts just after the DATA line's CRLF
    pending_.push_front(Pending::kDataEnd);
  } else if (p == Pending::kStartTls && code / 100 == 2) {
    AcceptTls(code);
  }
}

void SessionFollower::OnReplyUnaligned(int code) {
  if (code == 334) {  // RFC 4954 §4: only AUTH is answered with 334
    auth_response_due_ = true;
    return;
  }
  const bool starttls = !pending_.empty() && pending_.front() == Pending::kStartTls;
  pending_.clear();
  if (code == 354) {  // RFC 5321 §4.1.1.4: only DATA is answered with 354
    mode_ = ClientMode::kBody;
    body_match_ = 2;
  } else if (starttls && code / 100 == 2) {
    AcceptTls(code);
  }
}

void SessionFollower::AcceptTls(int code) {
  tls_accepted_ = true;
  why_ = "STARTTLS accepted (" + std::to_string(code) + "): the rest of the session is encrypted";
}

}  // namespace smtp::record
