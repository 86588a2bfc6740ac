#include "harness/client/client_scenario.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "harness/scenario/json_source.h"
#include "results/absl_compat.h"
#include "results/transcript.h"

namespace smtp::client {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using scenario::AppendPointer;
using scenario::JsonSource;

constexpr int kMaxGeneratedLines = 10'000;
constexpr std::size_t kMaxLineLength = 100'000;
constexpr int kMaxMs = 600'000;

const std::set<std::string, std::less<>> kReplyKeys = {
    "EHLO",     "HELO", "MAIL", "RCPT", "DATA", "DATA_END", "BDAT",
    "STARTTLS", "AUTH", "RSET", "NOOP", "QUIT", "VRFY"};

// Errors point at a JSON pointer of the source (or at nothing for a
// standalone ReplySpec).
class Ctx {
 public:
  explicit Ctx(const JsonSource* src) : src_(src) {}
  absl::Status At(std::string_view pointer, std::string_view what) const {
    if (src_ == nullptr)
      return absl::InvalidArgumentError(absl::StrCat(AV(pointer), ": ", AV(what)));
    return src_->ErrorAt(src_->ValuePosition(pointer), what);
  }

 private:
  const JsonSource* src_;
};

absl::StatusOr<int> Ms(const Ctx& c, const json& v, std::string_view ptr) {
  if (!v.is_number_integer() || v.get<std::int64_t>() < 0 || v.get<std::int64_t>() > kMaxMs) {
    return c.At(ptr, absl::StrCat("a number of milliseconds from 0 to ", kMaxMs));
  }
  return v.get<int>();
}

absl::StatusOr<std::string> Bytes(const Ctx& c, const json& v, std::string_view ptr) {
  if (!v.is_string()) return c.At(ptr, "a string (byte escapes \\r \\n \\xHH \\\\)");
  std::string out;
  if (!harness::UnescapeBytes(v.get<std::string>(), &out)) {
    return c.At(ptr, "a bad byte escape (use \\r \\n \\t \\xHH \\\\)");
  }
  return out;
}

// Lines with CRLF added; "\n" inside a string separates lines.
std::string LinesToBytes(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) {
    for (absl::string_view part : absl::StrSplit(l, '\n')) {
      out.append(part.data(), part.size());
      out += "\r\n";
    }
  }
  return out;
}

// `count` lines of `code`, each padded with a filler to `length` octets.
std::string Generated(int code, int count, std::size_t length, std::string_view text) {
  std::string out;
  for (int i = 0; i < count; ++i) {
    std::string line = absl::StrCat(code, i + 1 < count ? "-" : " ", AV(text), " line ", i + 1);
    if (line.size() + 3 < length) {
      const std::size_t pad = length - 3 - line.size();
      line.append(" ").append(pad, 'x');
    }
    out += line;
    out += "\r\n";
  }
  return out;
}

absl::StatusOr<ReplySpec> ParseReply(const Ctx& c, const json& v, const std::string& ptr) {
  ReplySpec r;
  if (v.is_number_integer()) {
    const int code = v.get<int>();
    if (code < 200 || code > 599) return c.At(ptr, "a reply code from 200 to 599");
    r.bytes = absl::StrCat(code, " harness reply\r\n");
    return r;
  }
  if (v.is_string()) {
    r.bytes = LinesToBytes({v.get<std::string>()});
    return r;
  }
  if (v.is_array()) {
    std::vector<std::string> lines;
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_string()) return c.At(AppendPointer(ptr, i), "a reply line (string)");
      lines.push_back(v[i].get<std::string>());
    }
    if (lines.empty()) return c.At(ptr, "at least one line");
    r.bytes = LinesToBytes(lines);
    return r;
  }
  if (!v.is_object()) return c.At(ptr, "a reply: a code, a line, lines, or an object");
  int code = 0, count = 0;
  std::size_t length = 0;
  std::string text = "generated";
  bool has_body = false;
  for (const auto& [key, value] : v.items()) {
    const std::string p = AppendPointer(ptr, key);
    if (key == "lines" || key == "text") {
      absl::StatusOr<ReplySpec> inner = ParseReply(c, value, p);
      if (!inner.ok()) return inner.status();
      r.bytes = inner->bytes;
      has_body = true;
    } else if (key == "raw") {
      absl::StatusOr<std::string> b = Bytes(c, value, p);
      if (!b.ok()) return b.status();
      r.bytes = *b;
      has_body = true;
    } else if (key == "inject") {
      absl::StatusOr<std::string> b = Bytes(c, value, p);
      if (!b.ok()) return b.status();
      r.inject = *b;
    } else if (key == "code") {
      if (!value.is_number_integer() || value.get<int>() < 200 || value.get<int>() > 599) {
        return c.At(p, "a reply code from 200 to 599");
      }
      code = value.get<int>();
    } else if (key == "count") {
      if (!value.is_number_integer() || value.get<int>() < 1 ||
          value.get<int>() > kMaxGeneratedLines) {
        return c.At(p, absl::StrCat("a line count from 1 to ", kMaxGeneratedLines));
      }
      count = value.get<int>();
    } else if (key == "line_length") {
      if (!value.is_number_integer() || value.get<std::int64_t>() < 1 ||
          value.get<std::int64_t>() > static_cast<std::int64_t>(kMaxLineLength)) {
        return c.At(p, absl::StrCat("a length from 1 to ", kMaxLineLength));
      }
      length = value.get<std::size_t>();
    } else if (key == "label") {
      if (!value.is_string()) return c.At(p, "a string");
      text = value.get<std::string>();
    } else if (key == "delay_ms" || key == "chunk_delay_ms") {
      absl::StatusOr<int> ms = Ms(c, value, p);
      if (!ms.ok()) return ms.status();
      (key == "delay_ms" ? r.delay : r.chunk_delay) = milliseconds(*ms);
    } else if (key == "chunk") {
      if (!value.is_number_integer() || value.get<int>() < 1 || value.get<int>() > 65536) {
        return c.At(p, "a piece size from 1 to 65536");
      }
      r.chunk = value.get<std::size_t>();
    } else if (key == "close" || key == "stall") {
      if (!value.is_boolean()) return c.At(p, "true or false");
      (key == "close" ? r.close : r.stall) = value.get<bool>();
    } else if (key == "tls") {
      if (value != "fail") return c.At(p, "\"fail\" (no handshake after the 220)");
      r.tls_fail = true;
    } else {
      return c.At(p, absl::StrCat("unknown key '", key,
                                  "' (lines, text, raw, code, count, line_length, label, "
                                  "delay_ms, chunk, chunk_delay_ms, close, stall, inject, tls)"));
    }
  }
  if (code != 0) {
    if (has_body) return c.At(ptr, "give \"code\" (a generated reply) or lines/text/raw, not both");
    r.bytes = Generated(code, count == 0 ? 1 : count, length, text);
  } else if (count != 0 || length != 0) {
    return c.At(ptr, "\"count\" and \"line_length\" need \"code\"");
  } else if (!has_body && !r.stall) {
    r.use_default = true;
  }
  if (r.close && r.stall) return c.At(ptr, "close and stall exclude each other");
  return r;
}

absl::StatusOr<std::vector<std::string>> Strings(const Ctx& c, const json& v,
                                                 const std::string& ptr) {
  if (!v.is_array()) return c.At(ptr, "a list of strings");
  std::vector<std::string> out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string()) return c.At(AppendPointer(ptr, i), "a string");
    out.push_back(v[i].get<std::string>());
  }
  return out;
}

absl::Status ParseServer(const Ctx& c, const json& v, const std::string& ptr, ServerScript* s) {
  if (!v.is_object()) return c.At(ptr, "an object");
  for (const auto& [key, value] : v.items()) {
    const std::string p = AppendPointer(ptr, key);
    if (key == "domain") {
      if (!value.is_string() || value.get<std::string>().empty()) return c.At(p, "a domain");
      s->domain = value.get<std::string>();
    } else if (key == "greeting") {
      absl::StatusOr<ReplySpec> r = ParseReply(c, value, p);
      if (!r.ok()) return r.status();
      s->greeting = *r;
    } else if (key == "extensions" || key == "extensions_tls") {
      absl::StatusOr<std::vector<std::string>> list = Strings(c, value, p);
      if (!list.ok()) return list.status();
      (key == "extensions" ? s->extensions : s->extensions_tls) = *list;
    } else if (key == "replies") {
      if (!value.is_object()) return c.At(p, "an object of command -> reply or list of replies");
      for (const auto& [verb, spec] : value.items()) {
        const std::string vp = AppendPointer(p, verb);
        if (!kReplyKeys.contains(verb)) {
          return c.At(vp, absl::StrCat("unknown command '", verb, "' (",
                                       absl::StrJoin(kReplyKeys, ", "), ")"));
        }
        std::vector<ReplySpec> list;
        if (spec.is_array() && !spec.empty() && !spec[0].is_string()) {
          for (std::size_t i = 0; i < spec.size(); ++i) {
            absl::StatusOr<ReplySpec> r = ParseReply(c, spec[i], AppendPointer(vp, i));
            if (!r.ok()) return r.status();
            list.push_back(*r);
          }
        } else {
          absl::StatusOr<ReplySpec> r = ParseReply(c, spec, vp);
          if (!r.ok()) return r.status();
          list.push_back(*r);
        }
        s->replies[verb] = std::move(list);
      }
    } else if (key == "reply_lines") {
      if (!value.is_number_integer() || value.get<int>() < 1 ||
          value.get<int>() > kMaxGeneratedLines) {
        return c.At(p, absl::StrCat("from 1 to ", kMaxGeneratedLines));
      }
      s->reply_lines = value.get<int>();
    } else if (key == "reply_line_length") {
      if (!value.is_number_integer() || value.get<std::int64_t>() < 0 ||
          value.get<std::int64_t>() > static_cast<std::int64_t>(kMaxLineLength)) {
        return c.At(p, absl::StrCat("from 0 to ", kMaxLineLength));
      }
      s->reply_line_length = value.get<std::size_t>();
    } else if (key == "max_connections") {
      if (!value.is_number_integer() || value.get<int>() < 1 || value.get<int>() > 16) {
        return c.At(p, "from 1 to 16");
      }
      s->max_connections = value.get<int>();
    } else {
      return c.At(p, absl::StrCat("unknown key '", key,
                                  "' (domain, greeting, extensions, extensions_tls, replies, "
                                  "reply_lines, reply_line_length, max_connections)"));
    }
  }
  return absl::OkStatus();
}

absl::Status ParseExpect(const Ctx& c, const json& v, const std::string& ptr, ClientExpect* e) {
  if (!v.is_object()) return c.At(ptr, "an object");
  for (const auto& [key, value] : v.items()) {
    const std::string p = AppendPointer(ptr, key);
    if (key == "exit") {
      if (value == "success") {
        e->exit = ClientExpect::Exit::kSuccess;
      } else if (value == "failure") {
        e->exit = ClientExpect::Exit::kFailure;
      } else if (value == "any") {
        e->exit = ClientExpect::Exit::kAny;
      } else {
        return c.At(p, "success, failure or any");
      }
    } else if (key == "message") {
      if (value == "equal") {
        e->message = ClientExpect::Message::kEqual;
      } else if (value == "none") {
        e->message = ClientExpect::Message::kNone;
      } else if (value == "any") {
        e->message = ClientExpect::Message::kAny;
      } else {
        return c.At(p, "equal, none or any");
      }
    } else if (key == "must_send" || key == "must_not_send" || key == "allow" ||
               key == "applies_if_sent") {
      absl::StatusOr<std::vector<std::string>> list = Strings(c, value, p);
      if (!list.ok()) return list.status();
      (key == "must_send"         ? e->must_send
       : key == "allow"           ? e->allow
       : key == "applies_if_sent" ? e->applies_if_sent
                                  : e->must_not_send) = *list;
    } else if (key == "within_ms") {
      absl::StatusOr<int> ms = Ms(c, value, p);
      if (!ms.ok()) return ms.status();
      e->within = milliseconds(*ms);
    } else {
      return c.At(
          p, absl::StrCat(
                 "unknown key '", key,
                 "' (exit, message, must_send, must_not_send, within_ms, allow, applies_if_sent)"));
    }
  }
  return absl::OkStatus();
}

absl::Status RequireString(const Ctx& c, const json& root, std::string_view key, std::string* out) {
  const std::string p = AppendPointer("", key);
  if (!root.contains(key)) return c.At("", absl::StrCat("missing \"", AV(key), "\""));
  if (!root[std::string(key)].is_string() || root[std::string(key)].get<std::string>().empty()) {
    return c.At(p, "a non-empty string");
  }
  *out = root[std::string(key)].get<std::string>();
  return absl::OkStatus();
}

absl::StatusOr<ClientScenario> ReadScenarioFile(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(file, ": cannot open"));
  std::string text(scenario::kMaxJsonFileBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > scenario::kMaxJsonFileBytes) {
    return absl::InvalidArgumentError(absl::StrCat(file, ": larger than 4 MiB"));
  }
  return ParseClientScenario(text, file);
}

}  // namespace

int ReplySpec::code() const {
  if (bytes.size() < 3) return 0;
  int code = 0;
  for (int i = 0; i < 3; ++i) {
    if (bytes[i] < '0' || bytes[i] > '9') return 0;
    code = code * 10 + (bytes[i] - '0');
  }
  return code;
}

std::vector<std::string> DefaultExtensions(ClientMode mode, bool tls) {
  std::vector<std::string> e = {"PIPELINING", "SIZE 10485760", "8BITMIME", "ENHANCEDSTATUSCODES",
                                "SMTPUTF8"};
  if (!tls && mode != ClientMode::kPlain) e.push_back("STARTTLS");
  if (mode == ClientMode::kAuth) e.push_back("AUTH PLAIN LOGIN CRAM-MD5");
  return e;
}

std::string_view DefaultMessage() {
  return "From: Sender <sender@client.test>\r\n"
         "To: Recipient <rcpt@server.test>\r\n"
         "Subject: smtp-harness client test\r\n"
         "Message-ID: <client-test@client.test>\r\n"
         "Date: Sun, 06 Dec 2026 00:00:00 +0000\r\n"
         "\r\n"
         "A short message from the client under test.\r\n"
         "Second line.\r\n";
}

absl::StatusOr<ReplySpec> ParseReplySpec(std::string_view json_text) {
  json j = json::parse(json_text, nullptr, false);
  if (j.is_discarded()) return absl::InvalidArgumentError("reply: not valid JSON");
  return ParseReply(Ctx(nullptr), j, "");
}

absl::StatusOr<ClientScenario> ParseClientScenario(std::string_view text, const std::string& path) {
  absl::StatusOr<JsonSource> src = JsonSource::Parse(path, std::string(text));
  if (!src.ok()) return src.status();
  const Ctx c(&*src);
  const json& root = src->root();
  if (!root.is_object()) return c.At("", "a scenario is a JSON object");
  if (!root.contains("role") || root["role"] != "client") {
    return c.At("", "\"role\": \"client\" is required in a client scenario");
  }
  ClientScenario s;
  s.message = std::string(DefaultMessage());
  for (absl::Status st :
       {RequireString(c, root, "id", &s.id), RequireString(c, root, "title", &s.title),
        RequireString(c, root, "level", &s.level)}) {
    if (!st.ok()) return st;
  }
  if (s.level != "MUST" && s.level != "SHOULD" && s.level != "MAY" && s.level != "policy" &&
      s.level != "security") {
    return c.At("/level", "MUST, SHOULD, MAY, policy or security");
  }
  for (char ch : s.id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(ch)) && ch != '.' && ch != '_' &&
        ch != '-') {
      return c.At("/id", "letters, digits, '.', '_', '-' only");
    }
  }
  bool has_rfc = false;
  for (const auto& [key, value] : root.items()) {
    const std::string p = AppendPointer("", key);
    if (key == "role" || key == "id" || key == "title" || key == "level" || key == "$schema") {
      continue;
    } else if (key == "description") {
      if (!value.is_string()) return c.At(p, "a string");
      s.description = value.get<std::string>();
    } else if (key == "rfc") {
      if (!value.is_object() || !value.contains("document") || !value.contains("section") ||
          !value["document"].is_string() || !value["section"].is_string()) {
        return c.At(p, "{\"document\": \"RFC 5321\", \"section\": \"4.5.2\", \"url\": ...}");
      }
      s.rfc_document = value["document"].get<std::string>();
      s.rfc_section = value["section"].get<std::string>();
      if (value.contains("url")) {
        if (!value["url"].is_string()) return c.At(AppendPointer(p, "url"), "a string");
        s.rfc_url = value["url"].get<std::string>();
      }
      has_rfc = true;
    } else if (key == "tags") {
      absl::StatusOr<std::vector<std::string>> tags = Strings(c, value, p);
      if (!tags.ok()) return tags.status();
      s.tags = *tags;
    } else if (key == "mode") {
      const std::optional<ClientMode> mode =
          value.is_string() ? ParseClientMode(value.get<std::string>()) : std::nullopt;
      if (!mode) return c.At(p, "plain, starttls, require_tls or auth");
      s.mode = *mode;
    } else if (key == "message") {
      absl::StatusOr<std::string> b = Bytes(c, value, p);
      if (!b.ok()) return b.status();
      s.message = *b;
    } else if (key == "server") {
      if (absl::Status st = ParseServer(c, value, p, &s.server); !st.ok()) return st;
    } else if (key == "expect") {
      if (absl::Status st = ParseExpect(c, value, p, &s.expect); !st.ok()) return st;
    } else if (key == "timeout_ms") {
      absl::StatusOr<int> ms = Ms(c, value, p);
      if (!ms.ok()) return ms.status();
      s.timeout = milliseconds(*ms);
    } else {
      return c.At(p, absl::StrCat("unknown key '", key,
                                  "' (role, id, title, description, rfc, level, tags, mode, "
                                  "message, server, expect, timeout_ms)"));
    }
  }
  if (!has_rfc) return c.At("", "missing \"rfc\"");
  return s;
}

absl::StatusOr<std::vector<ClientScenario>> LoadClientSuite(const std::vector<std::string>& paths) {
  std::vector<std::pair<std::string, std::string>> files;  // file, root
  for (const std::string& path : paths) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      std::vector<std::string> found;
      for (fs::recursive_directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
        const fs::path& p = it->path();
        if (p.filename().string().starts_with(".")) {
          if (it->is_directory(ec)) it.disable_recursion_pending();
          continue;
        }
        if (it->is_regular_file(ec) && p.extension() == ".json" && p.filename() != "schema.json") {
          found.push_back(p.lexically_normal().string());
        }
      }
      if (ec) return absl::NotFoundError(absl::StrCat(path, ": ", ec.message()));
      std::sort(found.begin(), found.end());
      for (std::string& f : found) files.emplace_back(std::move(f), path);
    } else if (fs::exists(path, ec)) {
      files.emplace_back(path, fs::path(path).parent_path().string());
    } else {
      return absl::NotFoundError(absl::StrCat(path, ": no such file or directory"));
    }
  }
  std::vector<ClientScenario> out;
  std::vector<std::string> errors;
  std::map<std::string, std::string> ids;
  for (const auto& [file, root] : files) {
    absl::StatusOr<ClientScenario> s = ReadScenarioFile(file);
    if (!s.ok()) {
      errors.push_back(std::string(Message(s.status())));
      continue;
    }
    s->file = fs::path(file).lexically_relative(root).string();
    if (const auto [it, inserted] = ids.emplace(s->id, s->file); !inserted) {
      errors.push_back(
          absl::StrCat(s->file, ": duplicate id '", s->id, "' (also in ", it->second, ")"));
      continue;
    }
    out.push_back(*std::move(s));
  }
  if (!errors.empty()) return absl::InvalidArgumentError(absl::StrJoin(errors, "\n"));
  return out;
}

}  // namespace smtp::client
