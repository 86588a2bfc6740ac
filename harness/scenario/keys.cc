#include "harness/scenario/keys.h"

#include <array>

namespace smtp::scenario {
namespace {

using K = std::string_view;

constexpr std::array<K, 13> kScenario{
    "$schema",    "id",      "title",    "description",     "rfc",
    "level",      "tags",    "requires", "requires_absent", "requires_plaintext",
    "timeout_ms", "include", "steps"};
constexpr std::array<K, 3> kRfc{"document", "section", "url"};
constexpr std::array<K, 3> kFragment{"$schema", "description", "steps"};
constexpr std::array<K, 18> kStepTypes{
    "connect",  "send",     "send_raw", "expect",  "expect_close",    "expect_silence",
    "pipeline", "starttls", "auth",     "data",    "data_raw",        "bdat",
    "capture",  "sleep",    "repeat",   "include", "expect_delivery", "require"};
constexpr std::array<K, 2> kCommon{"timeout_ms", "note"};
constexpr std::array<K, 20> kStep{
    "connect",    "send",     "send_raw", "expect",  "expect_close",    "expect_silence",
    "pipeline",   "starttls", "auth",     "data",    "data_raw",        "bdat",
    "capture",    "sleep",    "repeat",   "include", "expect_delivery", "require",
    "timeout_ms", "note"};
constexpr std::array<K, 1> kConnect{"tls"};
constexpr std::array<K, 5> kExpectation{"code", "text", "not_text", "ignore_case", "enhanced"};
constexpr std::array<K, 1> kExpectClose{"within_ms"};
constexpr std::array<K, 2> kExpectSilence{"for_ms", "or_close"};
constexpr std::array<K, 2> kPipeline{"send", "expect"};
constexpr std::array<K, 3> kStartTls{"expect", "inject", "if_offered"};
constexpr std::array<K, 4> kAuth{"mechanism", "username", "password", "expect"};
constexpr std::array<K, 5> kData{"body", "accept", "expect", "pad_to", "pad_extra"};
constexpr std::array<K, 3> kDataRaw{"bytes", "accept", "expect"};
constexpr std::array<K, 4> kBdat{"chunks", "last", "chunk_expect", "expect"};
constexpr std::array<K, 4> kCapture{"from", "regex", "group", "into"};
constexpr std::array<K, 1> kSleep{"ms"};
constexpr std::array<K, 2> kRepeat{"times", "steps"};
constexpr std::array<K, 8> kExpectDelivery{"count",    "first_line", "line", "not_line",
                                           "contains", "mail_from",  "rcpt", "rcpt_count"};
constexpr std::array<K, 10> kProfile{"$schema", "host",   "port", "tls",      "client_domain",
                                     "rcpt",    "sender", "user", "password", "vars"};
constexpr std::array<K, 3> kEnvValue{"env", "secret", "default"};

constexpr std::array<ObjectKeys, 20> kAll{{
    {"scenario", kScenario},
    {"rfc", kRfc},
    {"fragment", kFragment},
    {"step", kStep},
    {"connect", kConnect},
    {"expectation", kExpectation},
    {"expect_close", kExpectClose},
    {"expect_silence", kExpectSilence},
    {"pipeline", kPipeline},
    {"starttls", kStartTls},
    {"auth", kAuth},
    {"data", kData},
    {"data_raw", kDataRaw},
    {"bdat", kBdat},
    {"capture", kCapture},
    {"sleep", kSleep},
    {"repeat", kRepeat},
    {"expect_delivery", kExpectDelivery},
    {"profile", kProfile},
    {"env_value", kEnvValue},
}};

}  // namespace

std::span<const ObjectKeys> AcceptedKeys() { return kAll; }

std::span<const std::string_view> KeysOf(std::string_view object) {
  for (const ObjectKeys& o : kAll) {
    if (o.object == object) return o.keys;
  }
  return {};
}

std::span<const std::string_view> StepTypeKeys() { return kStepTypes; }
std::span<const std::string_view> CommonStepKeys() { return kCommon; }

}  // namespace smtp::scenario
