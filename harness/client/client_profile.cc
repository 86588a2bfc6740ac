#include "harness/client/client_profile.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "harness/scenario/json_source.h"
#include "results/absl_compat.h"

namespace smtp::client {
namespace {

constexpr std::array<std::string_view, kClientModes> kModeNames = {"plain", "starttls",
                                                                   "require_tls", "auth"};
constexpr std::size_t kMaxProfileBytes = 1 << 20;

}  // namespace

std::string_view ClientModeName(ClientMode mode) {
  return kModeNames[static_cast<std::size_t>(mode)];
}

std::optional<ClientMode> ParseClientMode(std::string_view name) {
  for (std::size_t i = 0; i < kModeNames.size(); ++i) {
    if (kModeNames[i] == name) return static_cast<ClientMode>(i);
  }
  return std::nullopt;
}

absl::StatusOr<ClientProfile> ParseClientProfile(std::string_view text, std::string_view path) {
  // Errors read "FILE:LINE:COL: key: what" (the position of the value).
  absl::StatusOr<scenario::JsonSource> src =
      scenario::JsonSource::Parse(std::string(path), std::string(text));
  if (!src.ok()) return src.status();
  const nlohmann::json& j = src->root();
  auto Bad = [&](std::string_view pointer, std::string_view what) {
    return src->ErrorAt(src->ValuePosition(pointer), what);
  };
  if (!j.is_object()) return Bad("", "a profile is a JSON object");
  ClientProfile p;
  for (const auto& [key, value] : j.items()) {
    if (key == "name") {
      if (!value.is_string() || value.get<std::string>().empty()) {
        return Bad("/name", "name: a non-empty string");
      }
      p.name = value.get<std::string>();
    } else if (key == "description") {
      if (!value.is_string()) return Bad("/description", "description: a string");
      p.description = value.get<std::string>();
    } else if (key == "commands") {
      if (!value.is_object()) return Bad("/commands", "commands: an object of mode -> command");
      for (const auto& [mode_name, command] : value.items()) {
        const std::optional<ClientMode> mode = ParseClientMode(mode_name);
        if (!mode) {
          return Bad(scenario::AppendPointer("/commands", mode_name),
                     absl::StrCat("commands: unknown mode '", mode_name,
                                  "' (plain, starttls, require_tls, auth)"));
        }
        if (!command.is_string() || command.get<std::string>().empty()) {
          return Bad(scenario::AppendPointer("/commands", mode_name),
                     absl::StrCat("commands.", mode_name, ": a non-empty string"));
        }
        p.commands[static_cast<std::size_t>(*mode)] = command.get<std::string>();
      }
    } else if (key == "timeout_ms") {
      if (!value.is_number_integer() || value.get<std::int64_t>() < 100 ||
          value.get<std::int64_t>() > 3'600'000) {
        return Bad("/timeout_ms", "timeout_ms: an integer from 100 to 3600000");
      }
      p.timeout = std::chrono::milliseconds(value.get<std::int64_t>());
    } else if (key == "env") {
      if (!value.is_object()) return Bad("/env", "env: an object of NAME -> value");
      for (const auto& [name, v] : value.items()) {
        if (!v.is_string())
          return Bad(scenario::AppendPointer("/env", name),
                     absl::StrCat("env.", name, ": a string"));
        if (name.empty() || name.find('=') != std::string::npos) {
          return Bad(scenario::AppendPointer("/env", name),
                     absl::StrCat("env: bad variable name '", name, "'"));
        }
        p.env.emplace_back(name, v.get<std::string>());
      }
    } else if (key == "allow_plaintext_auth") {
      if (!value.is_boolean())
        return Bad("/allow_plaintext_auth", "allow_plaintext_auth: true or false");
      p.allow_plaintext_auth = value.get<bool>();
    } else if (key == "$schema") {
      // Editors' hint.
    } else {
      return Bad(scenario::AppendPointer("", key),
                 absl::StrCat("unknown key '", key,
                              "' (name, commands, timeout_ms, env, allow_plaintext_auth, "
                              "description)"));
    }
  }
  if (p.name.empty()) return Bad("", "name: missing");
  bool any = false;
  for (const std::string& c : p.commands) any = any || !c.empty();
  if (!any) return Bad("", "commands: give at least one mode (plain, starttls, ...)");
  // A command that does not name {port} (nor does env) cannot reach the
  // harness, which listens on a fresh port per scenario: the client would
  // fail every scenario for a reason of the profile, not of the client.
  bool env_port = false;
  for (const auto& [name, v] : p.env) env_port = env_port || v.find("{port}") != std::string::npos;
  for (std::size_t m = 0; m < p.commands.size(); ++m) {
    if (p.commands[m].empty() || env_port || p.commands[m].find("{port}") != std::string::npos) {
      continue;
    }
    const std::string_view mode = kModeNames[m];
    return Bad(scenario::AppendPointer("/commands", mode),
               absl::StrCat("commands.", AV(mode),
                            ": no {port} placeholder (nor in env): the harness listens on a "
                            "fresh port for each scenario, so the client must be told it"));
  }
  return p;
}

absl::StatusOr<ClientProfile> LoadClientProfile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::string text(kMaxProfileBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxProfileBytes) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": larger than 1 MiB"));
  }
  absl::StatusOr<ClientProfile> p = ParseClientProfile(text, path);
  if (!p.ok()) return p.status();
  std::error_code ec;
  const std::filesystem::path abs = std::filesystem::absolute(path, ec);
  p->dir = (ec ? std::filesystem::path(path) : abs).parent_path().string();
  return p;
}

std::string ShellQuoteIfNeeded(std::string_view value) {
  bool safe = !value.empty();
  for (char c : value) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::string_view("@%+=:,./_-").find(c) != std::string_view::npos;
    safe = safe && ok;
  }
  if (safe) return std::string(value);
  std::string out = "'";
  for (char c : value) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  out += '\'';
  return out;
}

std::string SubstitutePlaceholders(std::string_view text, const Placeholders& values,
                                   bool for_shell) {
  const std::pair<std::string_view, const std::string*> table[] = {
      {"host", &values.host},         {"port", &values.port},
      {"from", &values.from},         {"to", &values.to},
      {"message", &values.message},   {"user", &values.user},
      {"password", &values.password}, {"cafile", &values.cafile}};
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '{') {
      const std::size_t close = text.find('}', i);
      if (close != std::string_view::npos) {
        const std::string_view name = text.substr(i + 1, close - i - 1);
        const std::string* value = nullptr;
        for (const auto& [n, v] : table) {
          if (n == name) value = v;
        }
        if (value != nullptr) {
          out += for_shell ? ShellQuoteIfNeeded(*value) : *value;
          i = close + 1;
          continue;
        }
      }
    }
    out += text[i++];
  }
  return out;
}

}  // namespace smtp::client
