// Whole-file writes that a reader never sees half done: the content goes to
// "PATH.tmp", which is then renamed over PATH. Every report, session file,
// corpus file and port file the tool writes for others to read goes through
// here. (A file that several processes write at once needs a temporary name
// of each process's own: fuzz/net/fuzz_workers.cc keeps its own for that.)
#ifndef SMTP_RESULTS_ATOMIC_FILE_H_
#define SMTP_RESULTS_ATOMIC_FILE_H_

#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace smtp {

// Writes `content` to `path` via "path.tmp" and rename. Errors are
// Unavailable and name the file and the system's reason.
absl::Status WriteFileAtomic(const std::string& path, std::string_view content);

// Writes what `write` puts into the stream to `path` via "path.tmp" and
// rename, so large output need not be held in memory first.
absl::Status WriteFileAtomicWith(const std::string& path,
                                 const std::function<void(std::ostream&)>& write);

}  // namespace smtp

#endif  // SMTP_RESULTS_ATOMIC_FILE_H_
