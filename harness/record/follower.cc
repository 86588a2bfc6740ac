#include "harness/record/follower.h"

#include <charconv>
#include <cstring>
#include <string>

#include "absl/strings/escaping.h"
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

// A decoded password shorter than this is not redacted wherever it occurs:
// two or three octets match ordinary text everywhere, and their base64 form
// (always redacted) is what the client sent.
constexpr std::size_t kMinDecodedSecret = 4;

// The password (or bearer token) inside a decoded SASL message, "" when the
// message holds none we can find.
//   PLAIN:   [authzid] NUL authcid NUL passwd                 (RFC 4616 §2)
//   XOAUTH2: "user=" user ^A "auth=Bearer " token ^A ^A;
//   OAUTHBEARER: gs2-header ^A "auth=Bearer " token ^A ^A     (RFC 7628 §3.1)
std::string_view PlainPassword(std::string_view message) {
  const std::size_t first = message.find('\0');
  if (first == std::string_view::npos) return {};
  const std::size_t second = message.find('\0', first + 1);
  if (second == std::string_view::npos) return {};
  const std::string_view passwd = message.substr(second + 1);
  return passwd.find('\0') == std::string_view::npos ? passwd : std::string_view();
}

std::string_view BearerToken(std::string_view message) {
  constexpr std::string_view kAuth = "auth=";
  const std::size_t at = message.find(kAuth);
  if (at == std::string_view::npos) return {};
  std::string_view value = message.substr(at + kAuth.size());
  value = value.substr(0, value.find('\x01'));
  const std::size_t sp = value.find(' ');  // "Bearer TOKEN": the scheme is no secret
  return sp == std::string_view::npos ? value : value.substr(sp + 1);
}

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
  EndSasl();
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
  if (sasl_active_ || auth_response_due_) {
    // RFC 4954 §4: the client's answer to a 334 challenge, base64 or "*";
    // or one sent ahead of its challenge (see secrets()).
    if (auth_response_due_) {
      auth_response_due_ = false;
      if (sasl_unprompted_ > 0) --sasl_unprompted_;  // one of the mechanism's responses
      OnSaslResponse(line, too_long);
      return;
    }
    if (sasl_unprompted_ > 0) {
      --sasl_unprompted_;
      ++sasl_ahead_;
      OnSaslResponse(line, too_long);
      return;
    }
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
    const std::string_view mech = Word(rest, &initial);
    EndSasl();
    sasl_active_ = true;
    sasl_mech_ = EqualsIgnoreCase(mech, "PLAIN")         ? SaslMech::kPlain
                 : EqualsIgnoreCase(mech, "LOGIN")       ? SaslMech::kLogin
                 : EqualsIgnoreCase(mech, "XOAUTH2")     ? SaslMech::kXoauth2
                 : EqualsIgnoreCase(mech, "OAUTHBEARER") ? SaslMech::kXoauth2
                                                         : SaslMech::kOther;
    // LOGIN's second message is the password; PLAIN and the bearer
    // mechanisms carry it in their first.
    sasl_password_at_ = sasl_mech_ == SaslMech::kLogin   ? 1
                        : sasl_mech_ == SaslMech::kOther ? -1
                                                         : 0;
    const bool has_initial = !initial.empty();
    // How many responses a client can send before any challenge.
    sasl_unprompted_ =
        sasl_mech_ == SaslMech::kLogin ? (has_initial ? 1 : 2) : (has_initial ? 0 : 1);
    if (has_initial) OnSaslResponse(initial, false);
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

void SessionFollower::OnSaslResponse(std::string_view line, bool too_long) {
  const int index = sasl_responses_++;
  if (too_long) {
    secret_lost_ = true;
    return;
  }
  if (line == "*") {  // the cancel (RFC 4954 §4): the server ends the exchange
    sasl_unprompted_ = 0;
    return;
  }
  if (line.empty() || line == "=") return;  // an empty response
  AddSecret(line);
  if (index != sasl_password_at_) return;
  std::string decoded;
  if (!absl::Base64Unescape(absl::string_view(line.data(), line.size()), &decoded)) return;
  const std::string_view password = sasl_mech_ == SaslMech::kPlain     ? PlainPassword(decoded)
                                    : sasl_mech_ == SaslMech::kXoauth2 ? BearerToken(decoded)
                                                                       : std::string_view(decoded);
  if (password.size() >= kMinDecodedSecret) AddSecret(password);
}

void SessionFollower::EndSasl() {
  sasl_active_ = false;
  auth_response_due_ = false;
  sasl_unprompted_ = 0;
  sasl_ahead_ = 0;
  sasl_responses_ = 0;
  sasl_password_at_ = -1;
  sasl_mech_ = SaslMech::kOther;
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
    // The AUTH stays pending until its final reply. A response the client
    // sent ahead answers this challenge already.
    if (sasl_ahead_ > 0) {
      --sasl_ahead_;
    } else {
      auth_response_due_ = true;
    }
    return;
  }
  pending_.pop_front();
  if (p == Pending::kAuth) {
    // The exchange is over. Responses sent ahead that no challenge asked
    // for reach the server as command lines, each with a reply of its own.
    for (int i = 0; i < sasl_ahead_ && pending_.size() < options_.max_pending; ++i) {
      pending_.push_front(Pending::kOther);
    }
    EndSasl();
  }
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
    if (sasl_ahead_ > 0) {
      --sasl_ahead_;
    } else {
      auth_response_due_ = true;
    }
    return;
  }
  if (sasl_active_) EndSasl();  // unaligned: any other reply may end it
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
