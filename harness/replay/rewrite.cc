#include "harness/replay/rewrite.h"

#include <ctime>

#include "harness/sasl.h"
#include "parser/ascii.h"
#include "results/redact.h"

namespace smtp::replay {

// --- Substitutions ----------------------------------------------------------------

std::string Rfc5322Now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[64];
  const std::size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return std::string(buf, n);
}

ClientRewriter::ClientRewriter(RewriteOptions options) : options_(std::move(options)) {}

std::string ClientRewriter::Rewrite(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() + 64);
  while (!bytes.empty()) {
    if (state_ == State::kBdat) {
      const std::size_t n =
          static_cast<std::size_t>(std::min<std::uint64_t>(bdat_left_, bytes.size()));
      out.append(bytes.substr(0, n));
      bytes.remove_prefix(n);
      bdat_left_ -= n;
      if (bdat_left_ == 0) state_ = State::kCommand;
      continue;
    }
    const std::size_t lf = bytes.find('\n');
    if (lf == std::string_view::npos) {
      // An incomplete line ends the group: sent as it is; its rest, in the
      // next group, is not a line start.
      out.append(bytes);
      mid_line_ = true;
      break;
    }
    const std::string_view line = bytes.substr(0, lf + 1);
    bytes.remove_prefix(lf + 1);
    if (mid_line_) {
      out.append(line);
      mid_line_ = false;
      continue;
    }
    Line(line, &out);
  }
  return out;
}

void ClientRewriter::Line(std::string_view line, std::string* out) {
  const std::string_view text = WithoutLineEnd(line);
  const std::string_view end = line.substr(text.size());
  switch (state_) {
    case State::kCommand: {
      for (std::string_view verb : {"EHLO ", "HELO ", "LHLO "}) {
        if (StartsWithIgnoreCase(text, verb)) {
          const std::string_view name = text.substr(verb.size());
          helo_seen_ = std::string(name.substr(0, name.find(' ')));
          helo_sent_ = options_.helo.empty() ? helo_seen_ : options_.helo;
          if (!options_.helo.empty()) {
            out->append(text.substr(0, verb.size())).append(options_.helo).append(end);
            return;
          }
        }
      }
      if (!sasl_next_.empty()) {
        // A SASL response line (RFC 4954 §4), or "*" to cancel.
        const std::string next = sasl_next_.front();
        sasl_next_.erase(sasl_next_.begin());
        if (text == "***") {
          out->append(Secret(next)).append(end);
          return;
        }
        if (text == "*") {
          sasl_next_.clear();
        } else {
          AddSecret(next, text);
        }
        out->append(line);
        return;
      }
      if (StartsWithIgnoreCase(text, "AUTH ")) {
        std::string_view rest = text.substr(5);
        const std::string mechanism = ToUpperCopy(rest.substr(0, rest.find(' ')));
        std::string_view initial =
            rest.find(' ') == std::string_view::npos ? "" : rest.substr(rest.find(' ') + 1);
        auth_failed_ = auth_index_ < options_.auth.size() && options_.auth[auth_index_].failed;
        auth_succeeded_ =
            auth_index_ < options_.auth.size() && options_.auth[auth_index_].succeeded;
        ++auth_index_;
        challenge_.clear();
        std::string first;  // what the initial response stands for
        if (mechanism == "PLAIN") {
          first = "plain";
          if (initial.empty()) sasl_next_ = {"plain"};
        } else if (mechanism == "LOGIN") {
          first = "user";
          sasl_next_ = initial.empty() ? std::vector<std::string>{"user", "password"}
                                       : std::vector<std::string>{"password"};
        } else if (mechanism == "CRAM-MD5") {
          sasl_next_ = {"cram"};
        } else if (mechanism == "XOAUTH2") {
          first = "xoauth2";
          if (initial.empty()) sasl_next_ = {"xoauth2"};
        } else {
          sasl_next_.clear();
        }
        if (initial == "***" && !first.empty()) {
          out->append(text.substr(0, 5 + mechanism.size()))
              .append(" ")
              .append(Secret(first))
              .append(end);
          return;
        }
        if (!initial.empty() && initial != "=") AddSecret(first, initial);
        out->append(line);
        return;
      }
      if (StartsWithIgnoreCase(text, "DATA") &&
          text.find_first_not_of(' ', 4) == std::string_view::npos) {
        state_ = State::kHeaders;
        skip_folded_ = false;
        ++messages_;
      } else if (StartsWithIgnoreCase(text, "BDAT ")) {
        // BDAT n [LAST]: n octets of chunk follow the line.
        std::uint64_t n = 0;
        std::size_t i = 5;
        bool digits = false;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9' &&
               n < (std::uint64_t{1} << 50)) {
          n = n * 10 + static_cast<std::uint64_t>(text[i++] - '0');
          digits = true;
        }
        if (digits && n > 0) {
          bdat_left_ = n;
          state_ = State::kBdat;
        }
      }
      out->append(line);
      return;
    }
    case State::kHeaders:
      if (text == ".") {
        state_ = State::kCommand;
      } else if (text.empty()) {
        state_ = State::kBody;
      } else if (skip_folded_ && (text[0] == ' ' || text[0] == '\t')) {
        return;  // a continuation line of a field we replaced
      } else if (options_.fresh_ids && StartsWithIgnoreCase(text, "Message-ID:")) {
        skip_folded_ = true;
        out->append(text.substr(0, 11))
            .append(" <replay." + options_.session_tag + "." + std::to_string(messages_) + "@" +
                    options_.id_domain + ">")
            .append(end);
        return;
      } else if (options_.fresh_ids && StartsWithIgnoreCase(text, "Date:")) {
        skip_folded_ = true;
        out->append(text.substr(0, 5))
            .append(" " + (options_.date.empty() ? Rfc5322Now() : options_.date))
            .append(end);
        return;
      } else {
        skip_folded_ = false;
      }
      out->append(line);
      return;
    case State::kBody:
      if (text == ".") state_ = State::kCommand;
      out->append(line);
      return;
    case State::kBdat:
      out->append(line);  // not reached: Rewrite passes chunks through
      return;
  }
}

void ClientRewriter::OnReply(const Reply& reply) {
  if (reply.code != kContinueReqCode || reply.lines.empty()) return;
  challenge_ = sasl::Base64DecodeLenient(reply.lines.front()).value_or("");
}

void ClientRewriter::AddSecret(std::string_view which, std::string_view response) {
  // Shorter ones would hide ordinary text everywhere (cf. kMinRedactedFragment).
  constexpr std::size_t kMinSecret = 4;
  if (response.size() < kMinSecret) return;
  secrets_.emplace_back(response);
  const std::optional<std::string> decoded = sasl::Base64DecodeLenient(response);
  if (!decoded || decoded->empty()) return;
  if (which == "plain") {
    if (const std::optional<sasl::PlainMessage> m = sasl::ParsePlainMessage(*decoded)) {
      if (m->passwd.size() >= kMinSecret) secrets_.emplace_back(m->passwd);
    }
  } else if (which == "password" && decoded->size() >= kMinSecret) {
    secrets_.push_back(*decoded);
  }
}

std::string ClientRewriter::Secret(std::string_view which) {
  const bool have = !options_.auth_user.empty() || !options_.auth_password.empty();
  // A recorded failure fails again: the same user, a wrong password. So is
  // an exchange whose outcome the record does not tell, without credentials.
  const bool wrong = auth_failed_ || (!have && !auth_succeeded_);
  if (!have && !wrong) {
    sent_redacted_ = true;
    return "***";
  }
  const std::string user = options_.auth_user.empty() ? "smtp-harness-replay" : options_.auth_user;
  const std::string password = wrong ? std::string(kWrongPassword) : options_.auth_password;
  std::string response;
  if (which == "plain") {
    response = sasl::Base64Encode(std::string(1, '\0') + user + '\0' + password);
  } else if (which == "user") {
    response = sasl::Base64Encode(user);
  } else if (which == "cram") {
    response = sasl::Base64Encode(sasl::CramMd5Response(user, password, challenge_));
  } else if (which == "xoauth2") {
    response = sasl::Base64Encode(sasl::Xoauth2Message(user, password));
  } else {
    response = sasl::Base64Encode(password);
  }
  if (!options_.auth_password.empty() &&
      std::find(secrets_.begin(), secrets_.end(), options_.auth_password) == secrets_.end()) {
    secrets_.push_back(options_.auth_password);
  }
  if (which != "user") secrets_.push_back(response);
  return response;
}

}  // namespace smtp::replay
