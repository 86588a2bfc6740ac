#include "harness/replay/convert.h"

#include <filesystem>
#include <string>
#include <system_error>

#include "absl/status/status.h"
#include "harness/replay/exchanges.h"
#include "harness/replay/to_corpus.h"
#include "harness/replay/to_scenario.h"
#include "results/absl_compat.h"
#include "results/atomic_file.h"

namespace smtp::replay {

std::optional<ConvertTo> ParseConvertTo(std::string_view name) {
  if (name == "scenario") return ConvertTo::kScenario;
  if (name == "corpus") return ConvertTo::kCorpus;
  return std::nullopt;
}

absl::StatusOr<ConvertSummary> Convert(const std::vector<harness::NamedTranscript>& sessions,
                                       ConvertTo to, const std::string& out_dir,
                                       const std::function<void(const std::string&)>& log) {
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) return absl::InternalError("cannot create " + out_dir + ": " + ec.message());
  ConvertSummary sum;
  for (const harness::NamedTranscript& s : sessions) {
    if (to == ConvertTo::kScenario) {
      absl::StatusOr<ConvertedScenario> sc = ToScenario(s);
      if (!sc.ok()) {
        ++sum.skipped;
        log(s.name + ": skipped: " + Message(sc.status()));
        continue;
      }
      const std::string path = (std::filesystem::path(out_dir) / (sc->id + ".json")).string();
      if (auto st = smtp::WriteFileAtomic(path, sc->json); !st.ok()) return st;
      ++sum.converted;
      ++sum.files;
      std::string line = s.name + ": wrote " + path + " (" + std::to_string(sc->steps) + " steps)";
      for (const std::string& n : sc->notes) line += "\n  note: " + n;
      log(line);
      continue;
    }
    const Exchanges x = SplitExchanges(s.transcript);
    const std::vector<CorpusSeed> seeds = CorpusSeeds(x);
    if (seeds.empty()) {
      ++sum.skipped;
      log(s.name +
          ": skipped: nothing to convert: the client sent nothing and the server no "
          "complete reply");
      continue;
    }
    absl::StatusOr<std::size_t> n = WriteCorpus(seeds, out_dir);
    if (!n.ok()) return n.status();
    ++sum.converted;
    sum.files += *n;
    log(s.name + ": " + std::to_string(seeds.size()) + " seeds, " + std::to_string(*n) + " new");
  }
  return sum;
}

}  // namespace smtp::replay
