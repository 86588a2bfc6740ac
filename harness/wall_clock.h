// Wall-clock time for the few places that print it (results.json's
// started_at, default output directory names, the server's Received: line).
// Deadlines use the steady clock (transport.h), never this.
#ifndef SMTP_HARNESS_WALL_CLOCK_H_
#define SMTP_HARNESS_WALL_CLOCK_H_

#include <string>

namespace smtp::harness {

// The current UTC time formatted by strftime(3) `format`, e.g.
// "%Y-%m-%dT%H:%M:%SZ" -> "2026-11-29T15:04:05Z". At most 63 characters.
std::string UtcNow(const char* format);

}  // namespace smtp::harness

#endif  // SMTP_HARNESS_WALL_CLOCK_H_
