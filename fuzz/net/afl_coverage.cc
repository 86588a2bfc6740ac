#include "fuzz/net/afl_coverage.h"

#include <sys/ipc.h>
#include <sys/shm.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

namespace smtp::fuzz {

absl::StatusOr<std::unique_ptr<AflCoverage>> AflCoverage::CreateExported(std::size_t map_size) {
  if (map_size == 0 || map_size % 64 != 0 || map_size > (std::size_t{1} << 28)) {
    return absl::InvalidArgumentError("AFL map size " + std::to_string(map_size) +
                                      ": must be a positive multiple of 64, at most 256 MiB");
  }
  const int id = ::shmget(IPC_PRIVATE, map_size, IPC_CREAT | IPC_EXCL | 0600);
  if (id < 0) {
    return absl::InternalError(std::string("shmget (the AFL coverage map): ") +
                               std::strerror(errno));
  }
  void* at = ::shmat(id, nullptr, 0);
  if (at == reinterpret_cast<void*>(-1)) {
    const int e = errno;
    ::shmctl(id, IPC_RMID, nullptr);
    return absl::InternalError(std::string("shmat (the AFL coverage map): ") + std::strerror(e));
  }
  // Removed when the last process detaches; Linux still lets the target
  // attach it until then.
  ::shmctl(id, IPC_RMID, nullptr);
  std::memset(at, 0, map_size);
  ::setenv("__AFL_SHM_ID", std::to_string(id).c_str(), 1);
  ::setenv("AFL_MAP_SIZE", std::to_string(map_size).c_str(), 1);
  return std::unique_ptr<AflCoverage>(
      new AflCoverage(id, static_cast<std::uint8_t*>(at), map_size));
}

AflCoverage::~AflCoverage() { ::shmdt(map_); }

}  // namespace smtp::fuzz
