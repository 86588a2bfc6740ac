#include "fuzz/client/reply_script.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "results/absl_compat.h"
#include "results/transcript.h"

namespace smtp::fuzz::client {

using json = nlohmann::json;

json ReplyToJson(const ReplySpec& r) {
  json j = json::object();
  if (!r.bytes.empty() || (!r.close && !r.stall)) j["raw"] = harness::EscapeBytes(r.bytes);
  if (r.delay.count() > 0) j["delay_ms"] = r.delay.count();
  if (r.chunk > 0) j["chunk"] = r.chunk;
  if (r.chunk_delay.count() > 0) j["chunk_delay_ms"] = r.chunk_delay.count();
  if (r.close) j["close"] = true;
  if (r.stall) j["stall"] = true;
  if (!r.inject.empty()) j["inject"] = harness::EscapeBytes(r.inject);
  if (r.tls_fail) j["tls"] = "fail";
  return j;
}

json ScriptToJson(const ServerScript& s) {
  json j = json::object();
  const ServerScript defaults;
  if (s.domain != defaults.domain) j["domain"] = s.domain;
  if (s.greeting) j["greeting"] = ReplyToJson(*s.greeting);
  if (s.extensions) j["extensions"] = *s.extensions;
  if (s.extensions_tls) j["extensions_tls"] = *s.extensions_tls;
  if (!s.replies.empty()) {
    json replies = json::object();
    for (const auto& [key, list] : s.replies) {
      if (list.empty()) continue;
      json a = json::array();
      for (const ReplySpec& r : list) a.push_back(ReplyToJson(r));
      replies[key] = a;
    }
    if (!replies.empty()) j["replies"] = replies;
  }
  if (s.reply_lines != defaults.reply_lines) j["reply_lines"] = s.reply_lines;
  if (s.reply_line_length != defaults.reply_line_length) {
    j["reply_line_length"] = s.reply_line_length;
  }
  if (s.max_connections != defaults.max_connections) j["max_connections"] = s.max_connections;
  return j;
}

std::string ScenarioFileFor(const ServerScript& s, ClientMode mode, std::string_view id,
                            std::string_view title, std::string_view message) {
  json j = json::object();
  j["role"] = "client";
  j["id"] = std::string(id);
  j["title"] = std::string(title);
  j["description"] =
      "A reply sequence written by smtp-harness fuzz --client; replay it with fuzz --client "
      "PROFILE --reproduce DIR.";
  j["rfc"] = {{"document", "RFC 5321"}, {"section", "4.2"}};
  j["level"] = "MUST";
  j["tags"] = json::array({"fuzz"});
  j["mode"] = std::string(smtp::client::ClientModeName(mode));
  j["message"] = std::string(message);
  j["server"] = ScriptToJson(s);
  j["expect"] = {{"exit", "any"}, {"message", "any"}};
  return j.dump(2) + "\n";
}

absl::StatusOr<smtp::client::ClientScenario> ReadScenarioFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().size() > (16u << 20)) return absl::InvalidArgumentError(path + ": over 16 MiB");
  return smtp::client::ParseClientScenario(text.str(), path);
}

std::vector<ScriptUnit> ScriptUnits(const ServerScript& s) {
  std::vector<ScriptUnit> out;
  using K = ScriptUnit::Kind;
  // Whole replies first (the last of each list first, so that taking one
  // out moves nothing), then the rest; timing last.
  for (const auto& [key, list] : s.replies) {
    for (std::size_t i = list.size(); i-- > 0;) out.push_back({K::kReply, key, i});
  }
  if (s.greeting) out.push_back({K::kGreeting, "", 0});
  if (s.extensions) {
    for (std::size_t i = 0; i < s.extensions->size(); ++i) out.push_back({K::kExtension, "", i});
  }
  if (s.extensions_tls) {
    for (std::size_t i = 0; i < s.extensions_tls->size(); ++i) {
      out.push_back({K::kExtensionTls, "", i});
    }
  }
  if (s.reply_lines != 1) out.push_back({K::kReplyLines, "", 0});
  if (s.reply_line_length != 0) out.push_back({K::kReplyLength, "", 0});
  for (const auto& [key, list] : s.replies) {
    for (std::size_t i = 0; i < list.size(); ++i) {
      const ReplySpec& r = list[i];
      if (r.delay.count() > 0 || r.chunk > 0 || !r.inject.empty()) {
        out.push_back({K::kReplyTiming, key, i});
      }
    }
  }
  if (s.extensions) {
    for (std::size_t i = 0; i < s.extensions->size(); ++i) {
      if ((*s.extensions)[i].size() > 1) out.push_back({K::kExtensionShorten, "", i});
    }
  }
  for (const auto& [key, list] : s.replies) {
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::size_t nl = list[i].bytes.find('\n');
      if (nl != std::string::npos && nl + 1 < list[i].bytes.size()) {
        out.push_back({K::kReplyFirstLine, key, i});
      }
    }
  }
  return out;
}

std::size_t ScriptSize(const ServerScript& s) {
  std::size_t n = s.greeting ? 1 : 0;
  for (const auto& [key, list] : s.replies) n += list.size();
  if (s.extensions) n += s.extensions->size();
  if (s.extensions_tls) n += s.extensions_tls->size();
  n += (s.reply_lines != 1 ? 1 : 0) + (s.reply_line_length != 0 ? 1 : 0);
  return n;
}

ServerScript WithoutUnit(const ServerScript& s, const ScriptUnit& u) {
  ServerScript c = s;
  using K = ScriptUnit::Kind;
  switch (u.kind) {
    case K::kReply: {
      auto it = c.replies.find(u.key);
      if (it != c.replies.end() && u.index < it->second.size()) {
        it->second.erase(it->second.begin() + static_cast<std::ptrdiff_t>(u.index));
        if (it->second.empty()) c.replies.erase(it);
      }
      break;
    }
    case K::kGreeting:
      c.greeting.reset();
      break;
    case K::kExtension:
      if (c.extensions && u.index < c.extensions->size()) {
        c.extensions->erase(c.extensions->begin() + static_cast<std::ptrdiff_t>(u.index));
      }
      break;
    case K::kExtensionTls:
      if (c.extensions_tls && u.index < c.extensions_tls->size()) {
        c.extensions_tls->erase(c.extensions_tls->begin() + static_cast<std::ptrdiff_t>(u.index));
      }
      break;
    case K::kReplyLines:
      c.reply_lines = 1;
      break;
    case K::kReplyLength:
      c.reply_line_length = 0;
      break;
    case K::kExtensionShorten:
      if (c.extensions && u.index < c.extensions->size()) {
        std::string& e = (*c.extensions)[u.index];
        const std::size_t sp = e.find(' ');
        if (sp != std::string::npos && sp > 0) {
          e.resize(sp);
        } else if (e.size() > 16) {
          e.resize(e.size() / 2);
        } else if (e.size() > 1) {
          e.pop_back();
        }
      }
      break;
    case K::kReplyFirstLine: {
      auto it = c.replies.find(u.key);
      if (it != c.replies.end() && u.index < it->second.size()) {
        std::string& b = it->second[u.index].bytes;
        const std::size_t nl = b.find('\n');
        if (nl != std::string::npos && nl + 1 < b.size()) b.erase(0, nl + 1);
      }
      break;
    }
    case K::kReplyTiming: {
      auto it = c.replies.find(u.key);
      if (it != c.replies.end() && u.index < it->second.size()) {
        ReplySpec& r = it->second[u.index];
        r.delay = r.chunk_delay = std::chrono::milliseconds(0);
        r.chunk = 0;
        r.inject.clear();
      }
      break;
    }
  }
  return c;
}

namespace {

std::string Short(const ReplySpec& r) {
  std::string bytes = harness::EscapeBytes(r.bytes);
  if (bytes.size() > 60)
    bytes = absl::StrCat(bytes.substr(0, 57), "... (", r.bytes.size(), " bytes)");
  std::string out = bytes.empty() ? "(nothing)" : bytes;
  if (r.delay.count() > 0) absl::StrAppend(&out, " after ", r.delay.count(), " ms");
  if (r.chunk > 0) absl::StrAppend(&out, " in pieces of ", r.chunk);
  if (!r.inject.empty()) absl::StrAppend(&out, " inject ", harness::EscapeBytes(r.inject));
  if (r.tls_fail) out += " no handshake";
  if (r.close) out += " then close";
  if (r.stall) out += " then stall";
  return out;
}

}  // namespace

std::vector<std::string> DescribeScript(const ServerScript& s) {
  std::vector<std::string> out;
  if (s.greeting) out.push_back("greeting: " + Short(*s.greeting));
  auto list = [](const std::vector<std::string>& v) {
    std::string t;
    for (const std::string& e : v) absl::StrAppend(&t, t.empty() ? "" : ", ", e);
    return t.empty() ? std::string("(none)") : t;
  };
  if (s.extensions) out.push_back("extensions: " + list(*s.extensions));
  if (s.extensions_tls) out.push_back("extensions after TLS: " + list(*s.extensions_tls));
  if (s.reply_lines != 1)
    out.push_back(absl::StrCat("default replies of ", s.reply_lines, " lines"));
  if (s.reply_line_length != 0) {
    out.push_back(absl::StrCat("default reply lines of ", s.reply_line_length, " octets"));
  }
  for (const auto& [key, l] : s.replies) {
    for (std::size_t i = 0; i < l.size(); ++i) {
      out.push_back(absl::StrCat(key, "#", i + 1, ": ", Short(l[i])));
    }
  }
  return out;
}

}  // namespace smtp::fuzz::client
