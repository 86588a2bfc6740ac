// AFL++ edge coverage of a foreign server, read the way AFL++ itself reads
// it: a System V shared-memory segment whose id the instrumented program
// finds in the environment variable __AFL_SHM_ID (the AFL shared-memory
// convention). A program built with afl-cc / afl-clang-fast attaches the
// segment at startup and counts its edges into it; started without AFL's
// fork server it just runs, so a listening server (`fuzz --spawn`) or one
// process per session (`exec:`) both count into the map. Forked children
// inherit the attachment, so a server that forks per connection counts too.
//
// The map is registered with libFuzzer as one more module of 8-bit counters
// (libfuzzer_hooks.h): libFuzzer clears it before each session and reads
// it after, so the server's edges are feedback with no copy. A target that
// is not instrumented leaves the map empty, which costs nothing but a scan.
#ifndef SMTP_FUZZ_NET_AFL_COVERAGE_H_
#define SMTP_FUZZ_NET_AFL_COVERAGE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "absl/status/statusor.h"

namespace smtp::fuzz {

// AFL++'s default map (MAP_SIZE). Larger programs need more: AFL++'s
// runtime says so on stderr ("set AFL_MAP_SIZE to N").
inline constexpr std::size_t kAflDefaultMapSize = std::size_t{1} << 16;

class AflCoverage {
 public:
  // Creates the segment (private, mode 0600) and marks it for removal at
  // once: Linux keeps it while attached, so no segment outlives the run,
  // however the run ends. `map_size`: bytes, a multiple of 64. Then puts
  // __AFL_SHM_ID and AFL_MAP_SIZE into this process's environment, so every
  // process the fuzzer starts from now on (exec: sessions, --spawn) counts
  // into the map.
  static absl::StatusOr<std::unique_ptr<AflCoverage>> CreateExported(std::size_t map_size);
  ~AflCoverage();
  AflCoverage(const AflCoverage&) = delete;
  AflCoverage& operator=(const AflCoverage&) = delete;

  int shm_id() const { return id_; }
  std::span<std::uint8_t> map() const { return {map_, size_}; }

 private:
  AflCoverage(int id, std::uint8_t* map, std::size_t size) : id_(id), map_(map), size_(size) {}
  int id_;
  std::uint8_t* map_;
  std::size_t size_;
};

}  // namespace smtp::fuzz

#endif  // SMTP_FUZZ_NET_AFL_COVERAGE_H_
