#include "harness/client/client_run.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "harness/client/scripted_server.h"
#include "harness/wall_clock.h"
#include "parser/ascii.h"
#include "results/absl_compat.h"
#include "results/transcript.h"

namespace smtp::client {
namespace {

namespace fs = std::filesystem;
using harness::Failure;
using harness::Verdict;

constexpr std::size_t kStderrInReason = 300;
constexpr std::size_t kStderrInTranscript = 4096;

Judgement Fail(std::string message, std::string expected, std::string actual) {
  Judgement j;
  j.verdict = Verdict::kFail;
  j.reason = message;
  j.failure = Failure{.step = -1,
                      .step_label = "client",
                      .expected = std::move(expected),
                      .actual = std::move(actual),
                      .message = std::move(message)};
  return j;
}

std::string StderrTail(const ProcessOutcome& o) {
  std::string s = o.stderr_head.empty() ? o.stdout_head : o.stderr_head;
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  if (s.size() > kStderrInReason) s = "..." + s.substr(s.size() - kStderrInReason);
  return s.empty() ? "" : "; its output: " + harness::EscapeBytes(s);
}

bool WriteFile(const fs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(out);
}

// RFC 2045 §6.7 decoding: "=" CRLF (a soft line break) removed, "=XX"
// decoded; anything else kept as is.
std::string DecodeQuotedPrintable(std::string_view in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '=' && in.substr(i + 1, 2) == "\r\n") {
      i += 2;
    } else if (in[i] == '=' && i + 2 < in.size() && HexDigitValue(in[i + 1]) >= 0 &&
               HexDigitValue(in[i + 2]) >= 0) {
      out += static_cast<char>(HexDigitValue(in[i + 1]) * 16 + HexDigitValue(in[i + 2]));
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

// Whether a header section holds this field (name case-insensitive, value
// compared after the first ':' with spaces trimmed, lower case).
bool HasQuotedPrintableEncoding(std::string_view header) {
  std::string lower = absl::AsciiStrToLower(AV(header));
  return lower.find("\r\ncontent-transfer-encoding: quoted-printable") != std::string::npos ||
         lower.starts_with("content-transfer-encoding: quoted-printable");
}

std::string Context(std::string_view s, std::size_t at) {
  const std::size_t from = at < 30 ? 0 : at - 30;
  return harness::EscapeBytes(s.substr(from, 60));
}

}  // namespace

std::optional<std::string> CompareMessage(std::string_view expected, std::string_view received,
                                          std::string* note) {
  if (received == expected) return std::nullopt;
  if (!expected.ends_with("\r\n") && received.size() == expected.size() + 2 &&
      received.starts_with(expected) && received.ends_with("\r\n")) {
    if (note) *note = "the client ended the last line with CRLF, as it must (RFC 5321 §4.1.1.4)";
    return std::nullopt;
  }
  // A client that composes its own header (an MUA) may add fields: the
  // file's fields must all be there, the body must be the same.
  const std::size_t eh = expected.find("\r\n\r\n"), rh = received.find("\r\n\r\n");
  if (eh != std::string_view::npos && rh != std::string_view::npos) {
    std::string_view eb = expected.substr(eh + 4), rb = received.substr(rh + 4);
    // An MUA may choose quoted-printable for a body the file sent as is
    // (s-nail for a last line without a line end): compare it decoded.
    std::string decoded;
    bool reencoded = false;
    if (HasQuotedPrintableEncoding(received.substr(0, rh + 2)) &&
        !HasQuotedPrintableEncoding(expected.substr(0, eh + 2))) {
      decoded = DecodeQuotedPrintable(rb);
      rb = decoded;
      reencoded = true;
    }
    const bool body_same = eb == rb || (!eb.ends_with("\r\n") && rb.size() == eb.size() + 2 &&
                                        rb.starts_with(eb) && rb.ends_with("\r\n"));
    if (body_same) {
      const std::vector<absl::string_view> have =
          absl::StrSplit(AV(received.substr(0, rh + 2)), "\r\n", absl::SkipEmpty());
      std::vector<absl::string_view> missing;
      for (absl::string_view f :
           absl::StrSplit(AV(expected.substr(0, eh + 2)), "\r\n", absl::SkipEmpty())) {
        if (std::find(have.begin(), have.end(), f) == have.end()) missing.push_back(f);
      }
      if (missing.empty()) {
        if (note) {
          *note = reencoded ? "the body is the same once its quoted-printable encoding (chosen by "
                              "the client) is decoded; the client added header fields of its own"
                            : "the body is the same; the client added header fields of its own";
        }
        return std::nullopt;
      }
    }
  }
  std::size_t i = 0;
  while (i < expected.size() && i < received.size() && expected[i] == received[i]) ++i;
  return absl::StrCat("they differ at octet ", i, " (of ", expected.size(), " sent, ",
                      received.size(), " received): the file has \"", Context(expected, i),
                      "\", the server received \"", Context(received, i), "\"");
}

Judgement JudgeClient(const ClientScenario& s, const ProcessOutcome& o, const SessionRecord& r) {
  using Exit = ClientExpect::Exit;
  using Message = ClientExpect::Message;
  const ClientExpect& e = s.expect;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(o.duration).count();
  if (!o.timed_out && !o.exited && o.signal != 0) {
    return Fail(absl::StrCat("the client crashed: ", o.Describe(), StderrTail(o)), "an exit status",
                o.Describe());
  }
  if (o.timed_out) {
    return Fail(absl::StrCat("the client did not end within its timeout (", ms,
                             " ms) and was killed", StderrTail(o)),
                "the client ends by itself", o.Describe());
  }
  if (e.within && o.duration > *e.within) {
    return Fail(absl::StrCat("the client took ", ms, " ms, more than ", e.within->count(), " ms"),
                absl::StrCat("within ", e.within->count(), " ms"), absl::StrCat(ms, " ms"));
  }
  for (const std::string& verb : e.applies_if_sent) {
    if (!r.Sent(verb)) {
      Judgement j;
      j.verdict = Verdict::kSkip;
      j.reason = absl::StrCat("does not apply: the client never sent ", verb,
                              " (commands: ", absl::StrJoin(r.commands, " "), ")");
      return j;
    }
  }
  for (const Violation& v : r.violations) {
    if (std::find(e.allow.begin(), e.allow.end(), v.kind) != e.allow.end()) continue;
    return Fail(absl::StrCat(v.kind, " (", v.clause, "): ", v.detail), absl::StrCat("no ", v.kind),
                v.detail);
  }
  // A client told to require TLS never sends the message without it,
  // whatever the scenario expects of the rest.
  if ((s.mode == ClientMode::kRequireTls || s.mode == ClientMode::kAuth) &&
      r.message_bytes_plaintext > 0) {
    return Fail(absl::StrCat("the client sent the message in plaintext although it was told to "
                             "require TLS (",
                             r.message_bytes_plaintext, " octets)"),
                "the message only over TLS", "the message in plaintext");
  }
  if (e.message == Message::kEqual) {
    if (r.messages.empty()) {
      return Fail(absl::StrCat("the client sent no message (", o.Describe(), StderrTail(o), ")"),
                  "the message, as in the file", "no message");
    }
    for (const ReceivedMessage& m : r.messages) {
      if (std::optional<std::string> diff = CompareMessage(s.message, m.body)) {
        return Fail("the message received is not the message sent: " + *diff,
                    "the message as in the file", *diff);
      }
    }
  } else if (e.message == Message::kNone) {
    if (!r.messages.empty() || r.message_bytes_plaintext > 0) {
      const bool plaintext = r.message_bytes_plaintext > 0;
      return Fail(
          absl::StrCat("the client sent the message", plaintext ? " in plaintext" : "",
                       " although it should not have"),
          "no message sent",
          absl::StrCat(r.messages.size(), " message(s)", plaintext ? ", in plaintext" : ""));
    }
  }
  for (const std::string& verb : e.must_send) {
    if (!r.Sent(verb)) {
      return Fail(absl::StrCat("the client never sent ", verb), verb,
                  absl::StrCat("commands: ", absl::StrJoin(r.commands, " ")));
    }
  }
  for (const std::string& verb : e.must_not_send) {
    if (r.Sent(verb)) {
      return Fail(absl::StrCat("the client sent ", verb, " although it must not"),
                  absl::StrCat("no ", verb),
                  absl::StrCat("commands: ", absl::StrJoin(r.commands, " ")));
    }
  }
  if (e.exit == Exit::kSuccess && !o.success()) {
    return Fail(absl::StrCat("the client reported a failure: ", o.Describe(), StderrTail(o)),
                "exit 0", o.Describe());
  }
  if (e.exit == Exit::kFailure && o.success()) {
    return Fail("the client reported success (exit 0) although the mail was not accepted",
                "a non-zero exit status", "exit 0");
  }
  Judgement j;
  j.reason = absl::StrCat(o.Describe(), " in ", ms, " ms; ", r.messages.size(), " message(s); ",
                          r.commands.size(), " command(s)");
  return j;
}

std::string SkipReason(const ClientProfile& profile, const ClientScenario& scenario) {
  if (!profile.has(scenario.mode)) {
    return absl::StrCat("the profile has no \"", AV(ClientModeName(scenario.mode)),
                        "\" command (mode ", AV(ClientModeName(scenario.mode)), ")");
  }
  if (profile.allow_plaintext_auth && std::find(scenario.tags.begin(), scenario.tags.end(),
                                                "plaintext-auth") != scenario.tags.end()) {
    return "the profile allows AUTH PLAIN/LOGIN without TLS (allow_plaintext_auth)";
  }
  return "";
}

harness::ScenarioResult RunClientScenario(const ClientProfile& profile, const ClientScenario& s,
                                          const harness::CertAndKey& cert,
                                          const ClientRunOptions& options) {
  harness::ScenarioResult result;
  result.id = s.id;
  result.title = s.title;
  result.description = s.description;
  result.file = s.file;
  result.rfc_document = s.rfc_document;
  result.rfc_section = s.rfc_section;
  result.rfc_url = s.rfc_url;
  result.level = s.level;
  result.tags = s.tags;
  result.group = absl::StrCat(s.rfc_document, " §", s.rfc_section);
  const auto started = std::chrono::steady_clock::now();
  auto finish = [&](Verdict v, std::string reason) {
    result.verdict = v;
    result.reason = std::move(reason);
    result.duration_us = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::steady_clock::now() - started)
                             .count();
    return result;
  };
  if (std::string why = SkipReason(profile, s); !why.empty()) return finish(Verdict::kSkip, why);

  const fs::path dir = fs::path(options.work_dir) / s.id;
  std::error_code ec;
  fs::create_directories(dir, ec);
  Placeholders values = options.values;
  values.message = (dir / "message.eml").string();
  if (ec || !WriteFile(values.message, s.message)) {
    return finish(Verdict::kError, absl::StrCat("cannot write ", values.message));
  }
  SessionSettings settings;
  settings.mode = s.mode;
  settings.user = values.user;
  settings.password = values.password;
  settings.allow_plaintext_auth = profile.allow_plaintext_auth;
  absl::StatusOr<std::unique_ptr<ScriptedServer>> server =
      ScriptedServer::Open(s.server, settings, ServerRunOptions{.cert = cert});
  if (!server.ok()) return finish(Verdict::kError, Message(server.status()));
  values.port = std::to_string((*server)->port());

  ProcessOptions p;
  p.command = SubstitutePlaceholders(profile.command(s.mode), values);
  p.cwd = profile.dir;
  for (const auto& [k, v] : profile.env) {
    p.env.emplace_back(k, SubstitutePlaceholders(v, values, /*for_shell=*/false));
  }
  p.timeout = s.timeout ? std::min(*s.timeout, profile.timeout) : profile.timeout;
  const auto deadline = std::chrono::steady_clock::now() + p.timeout + std::chrono::seconds(3);
  std::thread serving([&] { (*server)->Run(deadline); });
  absl::StatusOr<std::unique_ptr<ClientProcess>> process = ClientProcess::Start(p);
  ProcessOutcome outcome;
  if (process.ok()) outcome = (*process)->Wait();
  (*server)->ClientEnded();
  serving.join();
  result.transcript = (*server)->TakeTranscript();
  if (!process.ok()) {
    return finish(Verdict::kError,
                  absl::StrCat("cannot start the client: ", Message(process.status())));
  }
  result.transcript.AddNote(absl::StrCat("client command: ", p.command));
  result.transcript.AddNote(absl::StrCat("client ended: ", outcome.Describe()));
  const std::string& err = outcome.stderr_head;
  if (!err.empty()) {
    result.transcript.AddNote(absl::StrCat(
        "client stderr (", outcome.stderr_bytes,
        " bytes): ", harness::EscapeBytes(std::string_view(err).substr(0, kStderrInTranscript))));
  }
  const SessionRecord& record = (*server)->record();
  for (const Violation& v : record.violations) {
    result.transcript.AddNote(absl::StrCat("violation ", v.kind, " (", v.clause, "): ", v.detail));
  }
  Judgement j = JudgeClient(s, outcome, record);
  result.failure = j.failure;
  if (j.verdict == Verdict::kPass) {
    for (const ReceivedMessage& m : record.messages) {
      std::string note;
      if (!CompareMessage(s.message, m.body, &note) && !note.empty()) j.reason += "; " + note;
    }
  }
  return finish(j.verdict, j.reason);
}

absl::StatusOr<harness::RunResult> RunClientSuite(const ClientProfile& profile,
                                                  const std::vector<ClientScenario>& scenarios,
                                                  const ClientRunOptions& options) {
  std::error_code ec;
  fs::create_directories(options.work_dir, ec);
  if (ec) return absl::InternalError(absl::StrCat(options.work_dir, ": ", ec.message()));
  absl::StatusOr<harness::CertAndKey> cert = harness::MakeSelfSignedCert("localhost");
  if (!cert.ok()) return cert.status();
  ClientRunOptions o = options;
  o.values.cafile = (fs::path(options.work_dir) / "harness-ca.pem").string();
  if (!WriteFile(o.values.cafile, cert->cert_pem)) {
    return absl::InternalError(absl::StrCat("cannot write ", o.values.cafile));
  }
  harness::RunResult run;
  run.started_at = harness::UtcNow("%Y-%m-%dT%H:%M:%SZ");
  run.planned = static_cast<int>(scenarios.size());
  run.target.target = "client:" + profile.name;
  run.target.name = profile.name;
  run.scenarios.resize(scenarios.size());
  const auto started = std::chrono::steady_clock::now();
  std::atomic<std::size_t> next{0};
  std::mutex mu;
  harness::Counts counts;
  auto worker = [&] {
    for (std::size_t i = next++; i < scenarios.size(); i = next++) {
      if (o.stop != nullptr && o.stop->load()) break;
      harness::ScenarioResult r = RunClientScenario(profile, scenarios[i], *cert, o);
      r.start_us = 0;
      std::lock_guard<std::mutex> lock(mu);
      counts.Add(r.verdict);
      run.scenarios[i] = std::move(r);
      if (o.progress) o.progress(run.scenarios[i], counts, static_cast<int>(scenarios.size()));
    }
  };
  std::vector<std::thread> threads;
  const int jobs = std::clamp(options.jobs, 1, 64);
  for (int i = 0; i < jobs; ++i) threads.emplace_back(worker);
  for (std::thread& t : threads) t.join();
  // Scenarios that never started are not in the result (`planned` counts
  // them).
  std::erase_if(run.scenarios, [](const harness::ScenarioResult& r) { return r.id.empty(); });
  if (o.stop != nullptr && o.stop->load()) {
    run.stopped = o.stop_reason ? o.stop_reason() : "stopped";
    run.complete = false;
  }
  run.duration_us = std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::steady_clock::now() - started)
                        .count();
  return run;
}

}  // namespace smtp::client
