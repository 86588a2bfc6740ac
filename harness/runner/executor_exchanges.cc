// The multi-reply steps of the executor: starttls (RFC 3207), auth (RFC
// 4954), data (RFC 5321 §4.1.1.4), data_raw and bdat (RFC 3030).
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "harness/runner/executor_internal.h"
#include "harness/sasl.h"
#include "harness/scenario/delivery.h"
#include "parser/data_reader.h"
#include "results/absl_compat.h"

namespace smtp::runner::internal {

namespace {

// RFC 4954 §4: "334" SP [base64] CRLF is the server challenge.
constexpr int kChallengeCode = 334;
// RFC 5321 §4.2.1 / §4.1.1.4: the intermediate reply to DATA.
constexpr int kStartMailInput = 354;
// RFC 3207 §4: "220 Ready to start TLS".
constexpr int kReadyToStartTls = 220;

// Filler for padded bodies: 76 octets and CRLF, no dots (nothing to stuff).
constexpr std::string_view kFillerLine =
    "smtp-harness filler 0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRS\r\n";

}  // namespace

Outcome Pad(std::string_view pad_to, int extra, std::string* body) {
  std::uint64_t n = 0;
  if (pad_to.empty() || pad_to.size() > 19 ||
      !std::all_of(pad_to.begin(), pad_to.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    if (pad_to.empty()) return NotApplicable("pad_to is empty: the server states no size limit");
    return Error("pad_to '" + std::string(pad_to) + "' is not a decimal octet count");
  }
  for (char c : pad_to) n = n * 10 + static_cast<std::uint64_t>(c - '0');
  if (n == 0) return NotApplicable("pad_to is 0: the server states no size limit");
  const std::uint64_t want = n + static_cast<std::uint64_t>(extra);
  if (want > kMaxPaddedBody) {
    return NotApplicable("pad_to " + std::string(pad_to) + " is over the " +
                         std::to_string(kMaxPaddedBody >> 20) + " MiB the runner sends");
  }
  if (!body->empty() && body->back() != '\n') *body += "\r\n";
  body->reserve(want + kFillerLine.size());
  while (body->size() <= want) *body += kFillerLine;
  return Pass();
}

asio::awaitable<Outcome> Executor::ReadChallenge(Deadline d, const scenario::Expectation& final,
                                                 bool* more) {
  *more = false;
  Outcome got = co_await Read(d, nullptr);
  if (!got.ok()) co_return got;
  if (last_reply_->code == kChallengeCode) {
    *more = true;
    co_return Pass();
  }
  // The exchange ended early (e.g. 504 for an unknown mechanism): the reply
  // is the final one and must meet the step's expectation.
  co_return Check(final, *last_reply_, "", "334 or " + final.Describe());
}

asio::awaitable<Outcome> Executor::Do(const scenario::StartTlsStep& a, Deadline d, Deadline) {
  if (a.if_offered) {
    const bool encrypted = session_.transport() != nullptr && session_.transport()->tls();
    if (encrypted || !starttls_offered_) {
      session_.transcript().AddNote(encrypted ? "starttls (if offered): already encrypted"
                                              : "starttls (if offered): not offered, skipped");
      co_return Pass();
    }
  }
  std::string command = "STARTTLS\r\n";
  std::string inject;
  Outcome e = Expand(a.inject, &inject);
  if (!e.ok()) co_return e;
  command += inject;
  Outcome sent = co_await SendBytes(command, d);
  if (!sent.ok()) co_return sent;
  Outcome got = co_await Read(d, &a.expect);
  if (!got.ok()) co_return got;
  // A refusal the scenario expected (e.g. 454): no handshake. With injected
  // plaintext the check needs the handshake: the session stays plaintext, so
  // the server may rightly answer what was injected — not applicable.
  if (last_reply_->code != kReadyToStartTls) {
    if (!inject.empty()) {
      co_return NotApplicable("STARTTLS was refused (" + std::to_string(last_reply_->code) +
                              "): the injection check needs a TLS handshake");
    }
    co_return Pass();
  }
  absl::StatusOr<harness::TlsInfo> tls = co_await session_.StartTls(d);
  if (!tls.ok()) {
    if (absl::IsUnimplemented(tls.status()) || absl::IsFailedPrecondition(tls.status())) {
      co_return Error("STARTTLS: " + Message(tls.status()));
    }
    if (absl::IsDeadlineExceeded(tls.status())) {
      co_return TimedOut(d, "a TLS handshake", "handshake incomplete",
                         "the TLS handshake did not complete");
    }
    co_return Fail("a TLS handshake", Message(tls.status()),
                   "TLS handshake failed after 220: " + Message(tls.status()));
  }
  last_reply_.reset();
  starttls_offered_ = false;
  const std::string& injected = session_.discarded_before_tls();
  if (!injected.empty()) {
    // RFC 3207 §4: nothing may follow the 220 in plaintext; a server that
    // sends more is answering (or injecting) outside the TLS layer.
    co_return Fail("no plaintext after the 220 reply to STARTTLS", Quote(injected),
                   "the server sent " + std::to_string(injected.size()) +
                       " plaintext bytes after its 220 to STARTTLS (discarded; RFC 3207 §4)");
  }
  co_return Pass();
}

asio::awaitable<Outcome> Executor::Do(const scenario::AuthStep& a, Deadline d, Deadline) {
  std::string user, password;
  Outcome e = Expand(a.username, &user);
  if (!e.ok()) co_return e;
  e = Expand(a.password, &password);
  if (!e.ok()) co_return e;
  // A literal password in the scenario is as secret as the profile's.
  vars_.AddSecretValue(password);
  bool more = false;
  switch (a.mechanism) {
    case scenario::AuthMechanism::kPlain: {
      const std::string blob =
          sasl::Base64Encode(sasl::SerializePlainMessage({.authcid = user, .passwd = password}));
      vars_.AddSecretValue(blob);
      const std::string command = "AUTH PLAIN " + blob + "\r\n";
      Outcome sent = co_await SendBytes(command, d);
      if (!sent.ok()) co_return sent;
      break;
    }
    case scenario::AuthMechanism::kLogin: {
      const std::string user64 = sasl::Base64Encode(user);
      const std::string pass64 = sasl::Base64Encode(password);
      vars_.AddSecretValue(pass64);
      if (vars_.Redact(user) != user) vars_.AddSecretValue(user64);
      Outcome sent = co_await SendBytes("AUTH LOGIN\r\n", d);
      if (!sent.ok()) co_return sent;
      Outcome ch = co_await ReadChallenge(d, a.expect, &more);
      if (!ch.ok() || !more) co_return ch;
      const std::string user_line = user64 + "\r\n";
      sent = co_await SendBytes(user_line, d);
      if (!sent.ok()) co_return sent;
      ch = co_await ReadChallenge(d, a.expect, &more);
      if (!ch.ok() || !more) co_return ch;
      const std::string pass_line = pass64 + "\r\n";
      sent = co_await SendBytes(pass_line, d);
      if (!sent.ok()) co_return sent;
      break;
    }
    case scenario::AuthMechanism::kCramMd5: {
      Outcome sent = co_await SendBytes("AUTH CRAM-MD5\r\n", d);
      if (!sent.ok()) co_return sent;
      Outcome ch = co_await ReadChallenge(d, a.expect, &more);
      if (!ch.ok() || !more) co_return ch;
      const std::string text = last_reply_->lines.empty() ? "" : last_reply_->lines[0];
      // Read leniently (sasl::Base64DecodeLenient): the answer still goes out
      // and the transcript keeps the challenge as the server sent it.
      const std::optional<std::string> challenge = sasl::Base64DecodeLenient(text);
      if (!challenge) {
        co_return Fail("334 with a base64 challenge", ReplyText(*last_reply_),
                       "the CRAM-MD5 challenge is not base64 (RFC 2195 §2)");
      }
      const std::string answer =
          sasl::Base64Encode(sasl::CramMd5Response(user, password, *challenge));
      vars_.AddSecretValue(answer);
      const std::string answer_line = answer + "\r\n";
      sent = co_await SendBytes(answer_line, d);
      if (!sent.ok()) co_return sent;
      break;
    }
    case scenario::AuthMechanism::kXoauth2: {
      const std::string blob = sasl::Base64Encode(sasl::Xoauth2Message(user, password));
      vars_.AddSecretValue(blob);
      const std::string command = "AUTH XOAUTH2 " + blob + "\r\n";
      Outcome sent = co_await SendBytes(command, d);
      if (!sent.ok()) co_return sent;
      Outcome ch = co_await ReadChallenge(d, a.expect, &more);
      if (!ch.ok() || !more) co_return ch;
      // A 334 carries an error JSON; an empty line ends the exchange.
      sent = co_await SendBytes("\r\n", d);
      if (!sent.ok()) co_return sent;
      break;
    }
  }
  Outcome final_reply = co_await Read(d, &a.expect);
  co_return final_reply;
}

asio::awaitable<Outcome> Executor::StartData(const scenario::Expectation& accept, Deadline d,
                                             bool* go_on) {
  *go_on = false;
  Outcome sent = co_await SendBytes("DATA\r\n", d);
  if (!sent.ok()) co_return sent;
  Outcome got = co_await Read(d, &accept, "DATA: ");
  if (!got.ok()) co_return got;
  // A refusal the scenario expected (503, 554): no body follows.
  *go_on = last_reply_->code == kStartMailInput;
  co_return Pass();
}

asio::awaitable<Outcome> Executor::RsetInsteadOfMessage(Deadline d) {
  session_.transcript().AddNote(
      "--no_deliver: RSET instead of the message (the scenario's \"delivery\" is "
      "\"incidental\"; the state after RSET is the state after a completed transaction)");
  Outcome sent = co_await SendBytes("RSET\r\n", d);
  if (!sent.ok()) co_return sent;
  std::string why;
  scenario::Expectation ok;
  ok.codes.push_back(*scenario::CodePattern::Exact(250, &why));
  co_return co_await Read(d, &ok, "RSET instead of the message (--no_deliver): ");
}

asio::awaitable<Outcome> Executor::Do(const scenario::DataStep& a, Deadline d, Deadline) {
  if (options_.no_deliver && scenario::DataStepMayDeliver(a))
    co_return co_await RsetInsteadOfMessage(d);
  std::string body;
  Outcome e = Expand(a.body, &body);
  if (!e.ok()) co_return e;
  if (a.pad_to) {
    std::string pad_to;
    e = Expand(*a.pad_to, &pad_to);
    if (!e.ok()) co_return e;
    e = Pad(pad_to, a.pad_extra, &body);
    if (!e.ok()) co_return e;
  }
  bool go_on = false;
  Outcome started = co_await StartData(a.accept, d, &go_on);
  if (!started.ok() || !go_on) co_return started;
  const std::string wire = DotStuff(body);
  Outcome sent = co_await SendBytes(wire, d);
  if (!sent.ok()) co_return sent;
  Outcome got = co_await Read(d, &a.expect, "end of data: ");
  co_return got;
}

asio::awaitable<Outcome> Executor::Do(const scenario::DataRawStep& a, Deadline d, Deadline) {
  std::string bytes;
  Outcome e = Expand(a.bytes, &bytes);
  if (!e.ok()) co_return e;
  bool go_on = false;
  Outcome started = co_await StartData(a.accept, d, &go_on);
  if (!started.ok() || !go_on) co_return started;
  Outcome sent = co_await SendBytes(bytes, d);
  if (!sent.ok() || !a.expect) co_return sent;
  Outcome got = co_await Read(d, &*a.expect, "end of data: ");
  co_return got;
}

asio::awaitable<Outcome> Executor::Do(const scenario::BdatStep& a, Deadline d, Deadline) {
  // bdat-cmd = "BDAT" SP chunk-size [ SP end-marker ] CRLF   (RFC 3030 §2)
  // end-marker = "LAST"; the chunk's octets follow the CRLF at once.
  if (options_.no_deliver && scenario::BdatStepMayDeliver(a))
    co_return co_await RsetInsteadOfMessage(d);
  for (std::size_t i = 0; i < a.chunks.size(); ++i) {
    std::string chunk;
    Outcome e = Expand(a.chunks[i], &chunk);
    if (!e.ok()) co_return e;
    const bool final_chunk = i + 1 == a.chunks.size();
    std::string wire = "BDAT " + std::to_string(chunk.size());
    if (final_chunk && a.last) wire += " LAST";
    wire += "\r\n";
    wire += chunk;
    Outcome sent = co_await SendBytes(wire, d);
    if (!sent.ok()) co_return sent;
    const std::string what =
        "BDAT chunk " + std::to_string(i + 1) + "/" + std::to_string(a.chunks.size()) + ": ";
    Outcome got = co_await Read(d, final_chunk ? &a.expect : &a.chunk_expect, what);
    if (!got.ok()) co_return got;
  }
  co_return Pass();
}

}  // namespace smtp::runner::internal
