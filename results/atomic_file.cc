#include "results/atomic_file.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>

namespace smtp {

absl::Status WriteFileAtomic(const std::string& path, std::string_view content) {
  return WriteFileAtomicWith(path, [content](std::ostream& out) {
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
  });
}

absl::Status WriteFileAtomicWith(const std::string& path,
                                 const std::function<void(std::ostream&)>& write) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return absl::UnavailableError("cannot write " + tmp + ": " + std::strerror(errno));
    write(out);
    if (!out.flush()) {
      return absl::UnavailableError("cannot write " + tmp + ": " + std::strerror(errno));
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return absl::UnavailableError("cannot rename " + tmp + " to " + path + ": " + ec.message());
  }
  return absl::OkStatus();
}

}  // namespace smtp
