// Substitutions on the replayed client stream (ClientRewriter): the
// EHLO/HELO/LHLO name, fresh Message-ID and Date header fields, and AUTH
// responses the recording redacted, rebuilt from credentials. See replay.h.
#ifndef SMTP_HARNESS_REPLAY_REWRITE_H_
#define SMTP_HARNESS_REPLAY_REWRITE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "harness/replay/plan.h"
#include "parser/reply.h"

namespace smtp::replay {

// --- Substitutions -------------------------------------------------------------

struct RewriteOptions {
  std::string helo;       // "" keeps the recorded EHLO/HELO/LHLO name
  bool fresh_ids = true;  // new Message-ID and Date header fields
  std::string id_domain = "smtp-harness.invalid";
  std::string session_tag;  // unique per replayed session (in the Message-ID)
  // The Date field's value; empty: the current time (RFC 5322 form).
  std::string date;
  // Credentials for AUTH exchanges whose secrets the recording redacted
  // ("***"): PLAIN, LOGIN, CRAM-MD5 (from the live challenge) and XOAUTH2
  // (the password as the token) responses are rebuilt from them. An
  // exchange that failed in the recording (`auth`, from Plan::auth) is
  // rebuilt with a deliberately wrong password, so it fails again. Empty:
  // a redacted exchange that succeeded is sent as it is (ReplaySession
  // skips such sessions first).
  std::string auth_user;
  std::string auth_password;
  std::vector<AuthNeed> auth;
};

// The password sent for a recorded AUTH exchange that failed.
inline constexpr std::string_view kWrongPassword = "smtp-harness-replay-wrong-password";

// Rewrites the client's stream group by group, keeping its state (command,
// header or body) across groups. Only complete lines are rewritten.
class ClientRewriter {
 public:
  explicit ClientRewriter(RewriteOptions options);
  std::string Rewrite(std::string_view bytes);
  // The EHLO/HELO/LHLO name the recording had, and the one sent instead
  // (the same without RewriteOptions::helo); the last one seen.
  const std::string& helo_seen() const { return helo_seen_; }
  const std::string& helo_sent() const { return helo_sent_; }
  // A live reply was read: the last AUTH challenge (334) is what a
  // CRAM-MD5 response answers.
  void OnReply(const Reply& reply);
  // A redacted AUTH response ("***") was sent as it is (no credentials).
  bool sent_redacted() const { return sent_redacted_; }
  // What must not appear in reports: the password and every AUTH response
  // sent, rebuilt from the credentials or sent as recorded (with its
  // decoded password where it has one).
  const std::vector<std::string>& secrets() const { return secrets_; }

 private:
  enum class State : std::uint8_t { kCommand, kHeaders, kBody, kBdat };
  void Line(std::string_view line, std::string* out);
  // A redacted SASL response: rebuilt from the credentials, or kept.
  std::string Secret(std::string_view redacted);

  RewriteOptions options_;
  State state_ = State::kCommand;
  bool mid_line_ = false;        // the previous group ended inside a line
  bool skip_folded_ = false;     // dropping the continuation lines of a replaced field
  std::uint64_t bdat_left_ = 0;  // kBdat: chunk bytes still to pass through
  int messages_ = 0;
  std::string helo_seen_;
  std::string helo_sent_;
  // A SASL response as sent: kept among the secrets.
  void AddSecret(std::string_view which, std::string_view response);

  // SASL responses still to come as lines: "plain", "user", "password",
  // "cram", "xoauth2".
  std::vector<std::string> sasl_next_;
  std::size_t auth_index_ = 0;   // AUTH commands seen
  bool auth_failed_ = false;     // the current exchange failed in the recording
  bool auth_succeeded_ = false;  // it succeeded (else failed or unknown)
  std::string challenge_;        // the last 334's text, decoded
  bool sent_redacted_ = false;
  std::vector<std::string> secrets_;
};

// The current time as an RFC 5322 date-time ("Thu, 03 Dec 2026 22:40:05 +0000").
std::string Rfc5322Now();

}  // namespace smtp::replay

#endif  // SMTP_HARNESS_REPLAY_REWRITE_H_
