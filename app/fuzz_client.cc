#include "app/fuzz_client.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "app/live_run.h"
#include "fuzz/client/client_fuzzer.h"
#include "fuzz/net/afl_coverage.h"
#include "fuzz/net/run_control.h"
#include "harness/client/client_profile.h"
#include "results/absl_compat.h"

ABSL_FLAG(
    std::string, reproduce, "",
    "fuzz --client: re-run the client against a finding's reply sequence (OUT/findings/BUCKET "
    "or a client scenario file) three times and say whether the finding reproduces");

ABSL_DECLARE_FLAG(std::string, client);
ABSL_DECLARE_FLAG(std::string, mode);
ABSL_DECLARE_FLAG(std::string, out);
ABSL_DECLARE_FLAG(std::string, seeds);
ABSL_DECLARE_FLAG(int, minimize_runs);
ABSL_DECLARE_FLAG(int, minimize_time_ms);
ABSL_DECLARE_FLAG(int, afl_map_size);
ABSL_DECLARE_FLAG(std::string, target);
ABSL_DECLARE_FLAG(std::string, spawn);

namespace smtp::app {
namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "smtp-harness fuzz --client: %s (see smtp-harness fuzz --help)\n",
               message.c_str());
  return 2;
}

// "-name=value" of `args` (the last one); nullopt when absent.
std::optional<std::string> OneDash(const std::vector<std::string>& args, std::string_view name) {
  std::optional<std::string> v;
  const std::string prefix = "-" + std::string(name) + "=";
  for (const std::string& a : args) {
    if (a.rfind(prefix, 0) == 0) v = a.substr(prefix.size());
  }
  return v;
}

}  // namespace

bool ClientFuzzRequested() { return !absl::GetFlag(FLAGS_client).empty(); }

int RunClientFuzz(const std::vector<std::string>& args) {
  if (!absl::GetFlag(FLAGS_target).empty() || !absl::GetFlag(FLAGS_spawn).empty()) {
    return Fail("--client fuzzes a client: not with --target or --spawn");
  }
  absl::StatusOr<smtp::client::ClientProfile> profile =
      smtp::client::LoadClientProfile(absl::GetFlag(FLAGS_client));
  if (!profile.ok()) return Fail("--client: " + Message(profile.status()));
  // --mode is shared with parse, whose default is "command": no mode given.
  std::optional<smtp::client::ClientMode> mode;
  if (const std::string m = absl::GetFlag(FLAGS_mode); m != "command") {
    mode = smtp::client::ParseClientMode(m);
    if (!mode) return Fail("--mode " + m + ": one of plain, starttls, require_tls, auth");
    if (!profile->has(*mode)) {
      return Fail("--mode " + m + ": the profile " + profile->name + " has no \"" + m +
                  "\" command");
    }
  }
  if (const std::string r = absl::GetFlag(FLAGS_reproduce); !r.empty()) {
    return fuzz::client::ReproduceClientFinding(*profile, mode, r, 3);
  }
  fuzz::client::ClientFuzzConfig c;
  c.profile_path = absl::GetFlag(FLAGS_client);
  c.mode = mode.value_or(smtp::client::ClientMode::kPlain);
  if (!mode && !profile->has(c.mode)) {
    return Fail("the profile " + profile->name + " has no \"plain\" command: give --mode");
  }
  c.profile = *std::move(profile);
  // One-dash flags as the server fuzzer takes them; others are libFuzzer's,
  // which fuzz --client does not run.
  for (const std::string& a : args) {
    if (a.size() > 1 && a[0] == '-' && a[1] != '-') {
      const std::string name = a.substr(1, a.find('=') - 1);
      if (name != "max_total_time" && name != "runs" && name != "seed") {
        return Fail(a + ": fuzz --client takes -max_total_time, -runs and -seed only");
      }
    } else {
      return Fail("an argument fuzz --client does not take: " + a);
    }
  }
  if (std::optional<std::string> v = OneDash(args, "max_total_time")) {
    const std::optional<int> s = fuzz::MaxTotalTime(args);
    if (!s || *s <= 0) return Fail("-max_total_time=" + *v + ": a positive number of seconds");
    c.max_total_time = std::chrono::seconds(*s);
  }
  if (std::optional<std::string> v = OneDash(args, "runs")) {
    std::uint64_t n = 0;
    if (!absl::SimpleAtoi(AV(*v), &n) || n == 0) return Fail("-runs=" + *v + ": a positive count");
    c.runs = n;
    if (!OneDash(args, "max_total_time")) c.max_total_time = std::chrono::hours(24 * 365);
  }
  if (std::optional<std::string> v = OneDash(args, "seed")) {
    if (!absl::SimpleAtoi(AV(*v), &c.seed)) return Fail("-seed=" + *v + ": a number");
  }
  if (absl::GetFlag(FLAGS_minimize_runs) < 0 || absl::GetFlag(FLAGS_minimize_time_ms) < 0) {
    return Fail("--minimize_runs and --minimize_time_ms must be >= 0");
  }
  c.minimize_runs = static_cast<std::size_t>(absl::GetFlag(FLAGS_minimize_runs));
  c.minimize_time = std::chrono::milliseconds(absl::GetFlag(FLAGS_minimize_time_ms));
  if (const std::string s = absl::GetFlag(FLAGS_seeds); !s.empty() && s != "none") {
    std::error_code ec;
    if (std::filesystem::is_directory(s, ec)) {
      for (const auto& e : std::filesystem::recursive_directory_iterator(s, ec)) {
        if (e.path().extension() == ".json" && e.path().filename() != "schema.json") {
          c.seed_files.push_back(e.path().string());
        }
      }
      std::sort(c.seed_files.begin(), c.seed_files.end());
    } else if (std::filesystem::exists(s, ec)) {
      c.seed_files.push_back(s);
    } else {
      return Fail("--seeds: cannot read " + s);
    }
  }
  std::string error;
  c.out_dir = MakeOutDir(absl::GetFlag(FLAGS_out), "fuzz-client", &error);
  if (!error.empty()) return Fail(error);
  // The client's AFL++ edges: the map is in the environment before the
  // first client starts; a client not built with afl-cc leaves it empty.
  const int map_size = absl::GetFlag(FLAGS_afl_map_size);
  if (map_size < 0) return Fail("--afl_map_size must be >= 0");
  if (map_size > 0) {
    absl::StatusOr<std::unique_ptr<fuzz::AflCoverage>> afl =
        fuzz::AflCoverage::CreateExported(static_cast<std::size_t>(map_size));
    if (!afl.ok()) return Fail("--afl_map_size: " + Message(afl.status()));
    c.afl = *std::move(afl);
  }
  return fuzz::client::RunClientFuzzer(std::move(c));
}

}  // namespace smtp::app
