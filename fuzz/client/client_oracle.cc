#include "fuzz/client/client_oracle.h"

#include <signal.h>

#include <cctype>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "harness/client/client_run.h"
#include "harness/client/scripted_server.h"
#include "results/absl_compat.h"

namespace smtp::fuzz::client {
namespace {

using smtp::client::ClientProcess;
using smtp::client::ProcessOptions;
using smtp::client::ScriptedServer;
using smtp::client::ServerRunOptions;
using smtp::client::SessionSettings;

// Keeps [A-Za-z0-9_.-]: bucket names become directory names.
std::string Token(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' || c == '-') {
      out += c;
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
    if (out.size() >= 48) break;
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.empty() ? "none" : out;
}

std::string OneLine(std::string_view s, std::size_t max = 200) {
  std::string out = harness::EscapeBytes(s.substr(0, max));
  if (s.size() > max) out += "...";
  return out;
}

}  // namespace

absl::StatusOr<Iteration> RunIteration(const ServerScript& script, const IterationEnv& env) {
  const ClientProfile& profile = *env.profile;
  SessionSettings settings;
  smtp::client::Placeholders values;
  settings.mode = env.mode;
  settings.user = values.user;
  settings.password = values.password;
  settings.allow_plaintext_auth = profile.allow_plaintext_auth;
  absl::StatusOr<std::unique_ptr<ScriptedServer>> server =
      ScriptedServer::Open(script, settings, ServerRunOptions{.cert = env.cert});
  if (!server.ok()) return server.status();
  values.port = std::to_string((*server)->port());
  values.message = env.message_path;
  values.cafile = env.cafile;

  ProcessOptions p;
  p.command = smtp::client::SubstitutePlaceholders(profile.command(env.mode), values);
  p.cwd = profile.dir;
  for (const auto& [k, v] : profile.env) {
    p.env.emplace_back(k, smtp::client::SubstitutePlaceholders(v, values, /*for_shell=*/false));
  }
  p.timeout = profile.timeout;
  // The server outlives the client by its grace; a stuck server ends here.
  const auto deadline = std::chrono::steady_clock::now() + p.timeout + std::chrono::seconds(3);
  std::thread serving([&] { (*server)->Run(deadline); });
  absl::StatusOr<std::unique_ptr<ClientProcess>> process = ClientProcess::Start(p);
  Iteration it;
  it.command = p.command;
  if (process.ok()) {
    if (env.running) env.running(process->get());
    it.outcome = (*process)->Wait();
    if (env.running) env.running(nullptr);
  }
  (*server)->ClientEnded();
  serving.join();
  if (!process.ok()) return process.status();
  it.record = (*server)->record();
  it.transcript = (*server)->TakeTranscript();
  it.transcript.AddNote(absl::StrCat("client command: ", p.command));
  it.transcript.AddNote(absl::StrCat("client ended: ", it.outcome.Describe()));
  if (!it.outcome.stderr_head.empty()) {
    it.transcript.AddNote(absl::StrCat("client stderr (", it.outcome.stderr_bytes,
                                       " bytes): ", OneLine(it.outcome.stderr_head, 2000)));
  }
  for (const smtp::client::Violation& v : it.record.violations) {
    it.transcript.AddNote(absl::StrCat("violation ", v.kind, " (", v.clause, "): ", v.detail));
  }
  return it;
}

std::string SanitizerKind(std::string_view err) {
  for (std::string_view tool : {"AddressSanitizer", "MemorySanitizer", "ThreadSanitizer",
                                "LeakSanitizer", "HWAddressSanitizer"}) {
    const std::string marker = absl::StrCat(AV(tool), ": ");
    const std::size_t at = err.find(marker);
    if (at == std::string_view::npos) continue;
    std::string_view rest = err.substr(at + marker.size());
    if (tool == "LeakSanitizer") return "memory-leak";
    std::size_t n = 0;
    while (n < rest.size() && n < 48 &&
           (std::isalnum(static_cast<unsigned char>(rest[n])) != 0 || rest[n] == '-' ||
            rest[n] == '_')) {
      ++n;
    }
    if (n > 0) return std::string(rest.substr(0, n));
  }
  if (err.find(": runtime error: ") != std::string_view::npos) return "undefined-behavior";
  return "";
}

std::string CrashSite(std::string_view err) {
  std::vector<std::string> frames;
  std::size_t at = 0;
  while (at < err.size() && frames.size() < 2) {
    std::size_t end = err.find('\n', at);
    if (end == std::string_view::npos) end = err.size();
    std::string_view line = err.substr(at, end - at);
    at = end + 1;
    const std::size_t lead = line.find_first_not_of(' ');
    if (lead == std::string_view::npos || line.substr(lead, 1) != "#") {
      if (!frames.empty()) break;  // the first stack ended
      continue;
    }
    line.remove_prefix(lead);
    std::string frame;
    if (const std::size_t in = line.find(" in "); in != std::string_view::npos) {
      std::string_view fn = line.substr(in + 4);
      fn = fn.substr(0, fn.find(' '));
      for (std::string_view p : {"__interceptor_", "___interceptor_"}) {
        if (fn.substr(0, p.size()) == p) fn.remove_prefix(p.size());
      }
      frame = std::string(fn);
    } else if (const std::size_t plus = line.find("+0x"); plus != std::string_view::npos) {
      std::string_view off = line.substr(plus + 3);
      frame = std::string(off.substr(0, off.find(')')));
    }
    if (frame.empty()) continue;
    frames.push_back(frame);
  }
  std::string out;
  for (const std::string& f : frames) out += (out.empty() ? "" : ".") + f;
  return Token(out == "none" ? "" : out);
}

bool WellFormedReply(std::string_view bytes) {
  if (bytes.empty()) return true;
  std::size_t at = 0;
  std::string_view code;
  while (at < bytes.size()) {
    const std::size_t end = bytes.find("\r\n", at);
    if (end == std::string_view::npos) return false;
    const std::string_view line = bytes.substr(at, end - at);
    if (line.size() < 3 || line.find('\n') != std::string_view::npos) return false;
    for (int i = 0; i < 3; ++i) {
      if (std::isdigit(static_cast<unsigned char>(line[i])) == 0) return false;
    }
    if (!code.empty() && line.substr(0, 3) != code) return false;
    code = line.substr(0, 3);
    const bool last = end + 2 == bytes.size();
    if (last ? (line.size() > 3 && line[3] != ' ') : (line.size() < 4 || line[3] != '-')) {
      return false;
    }
    at = end + 2;
  }
  return true;
}

std::optional<Verdict> Judge(const Iteration& it, const ServerScript& script,
                             std::string_view message) {
  const ProcessOutcome& o = it.outcome;
  const std::string verb = it.record.commands.empty() ? "none" : Token(it.record.commands.back());
  auto make = [&](std::string oracle, std::string kind, std::string detail) {
    Verdict v;
    v.bucket = absl::StrCat(oracle, "-", Token(kind), "-", verb);
    v.oracle = std::move(oracle);
    v.kind = std::move(kind);
    v.detail = std::move(detail);
    return v;
  };
  if (std::string kind = SanitizerKind(o.stderr_head); !kind.empty()) {
    const std::size_t at = o.stderr_head.find("ERROR: ");
    const std::string_view line = std::string_view(o.stderr_head)
                                      .substr(at == std::string::npos ? 0 : at)
                                      .substr(0, std::string_view(o.stderr_head)
                                                     .substr(at == std::string::npos ? 0 : at)
                                                     .find('\n'));
    // The crash site names the bucket (the top two frames): one bug met
    // after different commands is one finding.
    Verdict v = make("sanitizer", kind,
                     absl::StrCat("a sanitizer report on the client's stderr: ", OneLine(line),
                                  " (", o.Describe(), ")"));
    if (const std::string site = CrashSite(o.stderr_head); site != "none") {
      v.bucket = absl::StrCat("sanitizer-", Token(kind), "-", site);
    }
    return v;
  }
  if (!o.timed_out && o.signal != 0) {
    return make("signal", smtp::client::SignalName(o.signal),
                absl::StrCat("the client was ", o.Describe()));
  }
  if (o.timed_out && !o.stopped) {
    return make("hang", "timeout",
                absl::StrCat("the client was ", o.Describe(), " (the profile's timeout_ms)"));
  }
  bool well_formed = !script.greeting || WellFormedReply(script.greeting->bytes);
  for (const auto& [key, list] : script.replies) {
    for (const smtp::client::ReplySpec& r : list) {
      well_formed = well_formed && WellFormedReply(r.bytes) && r.inject.empty();
    }
  }
  for (const smtp::client::Violation& v : it.record.violations) {
    const bool early = v.kind == "early-command" || v.kind == "early-talker";
    if (v.kind == "line-end" || v.kind == "after-starttls" || (early && well_formed)) {
      return make("violation", v.kind, absl::StrCat(v.clause, ": ", v.detail));
    }
  }
  for (const smtp::client::ReceivedMessage& m : it.record.messages) {
    if (std::optional<std::string> diff = smtp::client::CompareMessage(message, m.body)) {
      return make(
          "message", "differs",
          absl::StrCat("the message as received differs from the message file: ", OneLine(*diff)));
    }
  }
  return std::nullopt;
}

}  // namespace smtp::fuzz::client
