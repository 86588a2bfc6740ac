#include "harness/runner/deliveries.h"

#include <algorithm>
#include <fstream>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "absl/strings/escaping.h"

namespace smtp::runner {

namespace {

using json = nlohmann::json;

std::string StringAt(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::vector<Delivery> JsonlDeliveries::From(const std::vector<std::string>& clients) const {
  std::vector<Delivery> out;
  std::ifstream in(path_, std::ios::binary | std::ios::ate);
  if (!in) return out;
  // Only the newest kMaxBytes: the scenario's own records are at the end.
  const std::streamoff size = in.tellg();
  const std::streamoff start = size > static_cast<std::streamoff>(kMaxBytes)
                                   ? size - static_cast<std::streamoff>(kMaxBytes)
                                   : 0;
  in.seekg(start);
  std::string line;
  if (start > 0) std::getline(in, line);  // a partial record
  while (std::getline(in, line)) {
    const json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("envelope") || !j["envelope"].is_object()) continue;
    const json& e = j["envelope"];
    Delivery d;
    d.client = StringAt(e, "client");
    if (std::find(clients.begin(), clients.end(), d.client) == clients.end()) continue;
    d.mail_from = StringAt(e, "mail_from");
    if (auto r = e.find("rcpt_to"); r != e.end() && r->is_array()) {
      for (const json& one : *r) {
        if (one.is_string()) d.rcpt_to.push_back(one.get<std::string>());
      }
    }
    const std::string b64 = StringAt(j, "body_b64");
    std::string body;
    if (!absl::Base64Unescape(b64, &body)) body.clear();
    d.content = std::move(body);
    // Without body_b64 (the server kept no body) the content is unknown:
    // report it as truncated so content checks say why they fail.
    const auto cut = j.find("body_truncated");
    d.truncated =
        !j.contains("body_b64") || (cut != j.end() && cut->is_boolean() && cut->get<bool>());
    out.push_back(std::move(d));
  }
  return out;
}

absl::StatusOr<std::string> ParseDeliveriesSpec(std::string_view spec) {
  constexpr std::string_view kJsonl = "jsonl:";
  if (spec.substr(0, kJsonl.size()) == kJsonl && spec.size() > kJsonl.size()) {
    return std::string(spec.substr(kJsonl.size()));
  }
  return absl::InvalidArgumentError("--deliveries must be jsonl:PATH (the --sink of serve)");
}

}  // namespace smtp::runner
