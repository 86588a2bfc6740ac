// Properties of the whole conversion over random records built from SMTP
// fragments (a libFuzzer-style test that runs in every build): splitting
// never loses or invents client bytes, replies stay paired, and whatever
// ToScenario writes loads with the scenario loader.
#include <random>
#include <string>
#include <string_view>

#include "gtest/gtest.h"
#include "harness/replay/exchanges.h"
#include "harness/replay/test_util.h"
#include "harness/replay/to_corpus.h"
#include "harness/replay/to_scenario.h"
#include "harness/scenario/scenario_loader.h"
#include "results/absl_compat.h"

namespace smtp::replay {
namespace {

using namespace std::string_literals;
using harness::EntryKind;
using testing::Record;

std::string RandomBytes(std::mt19937& rng) {
  static const std::string kPieces[] = {
      "220 ",        "250-",  "250 ",     "354 ",  "334 ",
      "503 5.5.1 x", "\r\n",  "\r\n",     "\n",    "\r",
      "EHLO a",      "DATA",  "BDAT ",    "3",     "0",
      " LAST",       "AUTH ", "PLAIN",    "LOGIN", "***",
      ".",           "..",    "STARTTLS", "QUIT",  "MAIL FROM:<a@b>",
      "${x}$",       "\0"s,   "\xff",     "abc",   " "};
  std::string out;
  for (int n = 1 + static_cast<int>(rng() % 6); n > 0; --n) {
    out += kPieces[rng() % std::size(kPieces)];
  }
  return out;
}

// Mostly whole replies (so that sessions get far), sometimes fragments.
std::string RandomServerBytes(std::mt19937& rng) {
  static const std::string kReplies[] = {"250 ok\r\n",         "250 2.0.0 ok\r\n", "354 go\r\n",
                                         "334 VXNlcg==\r\n",   "235 2.7.0 ok\r\n", "220 go\r\n",
                                         "250-a\r\n250 b\r\n", "503 5.5.1 no\r\n", "221 bye\r\n"};
  if (rng() % 5 == 0) return RandomBytes(rng);
  return kReplies[rng() % std::size(kReplies)];
}

TEST(ConvertPropertyTest, RandomRecords) {
  std::mt19937 rng(2026);
  int scenarios = 0;
  for (int i = 0; i < 10000; ++i) {
    Record r;
    bool tls = false;
    r.S("220 mx\r\n");
    for (int k = static_cast<int>(rng() % 24); k > 0; --k) {
      const unsigned pick = rng() % 40;
      if (pick < 18) {
        r.C(RandomBytes(rng));
      } else if (pick < 36) {
        r.S(RandomServerBytes(rng));
      } else if (pick < 38) {
        r.Tls();
        tls = true;
      } else if (pick < 39) {
        r.Event(EntryKind::kPeerClosed);
      } else {
        r.Event(EntryKind::kTlsOpaque);
        tls = true;
      }
    }
    const Exchanges x = SplitExchanges(r.t);
    ASSERT_FALSE(x.exchanges.empty());
    ASSERT_TRUE(x.exchanges[0].greeting);
    std::string sent;
    for (std::size_t e = 0; e < x.exchanges.size(); ++e) {
      const Exchange& ex = x.exchanges[e];
      ASSERT_EQ(ex.replies.size(), ex.reply_bytes.size());
      ASSERT_LE(ex.unsolicited, ex.replies.size());
      if (e > 0) {
        ASSERT_FALSE(ex.sent.empty()) << r.t.DebugString();
        ASSERT_FALSE(ex.greeting);
        if (ex.replies.size() > ex.sent.size()) {
          ASSERT_EQ(ex.replies.size() - ex.sent.size(), ex.unsolicited);
        }
      }
      for (const Sent& s : ex.sent) sent += s.bytes;
    }
    if (!tls) {
      // Every client byte is in exactly one unit, in order.
      ASSERT_EQ(sent, r.t.SideBytes(harness::Direction::kClientToServer)) << r.t.DebugString();
    }
    const fuzz::SessionInput in = ToSessionInput(x);
    ASSERT_EQ(fuzz::ParseSessionInput(fuzz::SerializeSessionInput(in)), in);
    (void)CorpusSeeds(x);
    absl::StatusOr<ConvertedScenario> c = ToScenario({"r.json", r.t});
    if (!c.ok()) {
      ASSERT_EQ(c.status().code(), absl::StatusCode::kFailedPrecondition);
      continue;
    }
    ++scenarios;
    absl::StatusOr<scenario::Scenario> s = scenario::LoadScenarioText("r.json", c->json);
    ASSERT_TRUE(s.ok()) << Message(s.status()) << "\n" << c->json << "\n" << r.t.DebugString();
  }
  EXPECT_GT(scenarios, 500);  // the generator reaches the writer often enough to matter
}

}  // namespace
}  // namespace smtp::replay
