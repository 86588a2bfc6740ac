// Test helper: builds a recorded session entry by entry.
#ifndef SMTP_HARNESS_REPLAY_TEST_UTIL_H_
#define SMTP_HARNESS_REPLAY_TEST_UTIL_H_

#include <cstdint>
#include <string_view>

#include "results/transcript.h"

namespace smtp::replay::testing {

// Record().S("220 hi\r\n").C("EHLO a\r\n").S("250 ok\r\n").t: one entry per
// call, in order, 10 µs apart.
struct Record {
  harness::Transcript t;
  std::int64_t now = 0;

  Record& S(std::string_view bytes) {
    t.AddDataAt(now += 10, harness::Direction::kServerToClient, bytes);
    return *this;
  }
  Record& C(std::string_view bytes) {
    t.AddDataAt(now += 10, harness::Direction::kClientToServer, bytes);
    return *this;
  }
  Record& Tls() {
    t.AddTls({"TLSv1.3", "TLS_AES_256_GCM_SHA384", ""});
    return *this;
  }
  Record& Event(harness::EntryKind kind, std::string_view text = {}) {
    t.AddEventAt(now += 10, kind, text);
    return *this;
  }
};

}  // namespace smtp::replay::testing

#endif  // SMTP_HARNESS_REPLAY_TEST_UTIL_H_
