#include "fuzz/client/reply_script.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "fuzz/client/reply_mutator.h"

namespace smtp::fuzz::client {
namespace {

ServerScript Sample() {
  ServerScript s;
  s.extensions = std::vector<std::string>{"PIPELINING", "DSN", "CHUNKING"};
  ReplySpec r;
  r.bytes = "251 forward\r\n";
  r.delay = std::chrono::milliseconds(20);
  s.replies["RCPT"] = {r};
  ReplySpec c;
  c.close = true;
  s.replies["QUIT"] = {c};
  s.reply_lines = 9;
  return s;
}

TEST(ReplyScript, ScenarioFileRoundTrips) {
  const ServerScript s = Sample();
  const std::string text = ScenarioFileFor(s, ClientMode::kPlain, "fuzz.x", "t", "M\r\n");
  const std::string path =
      (std::filesystem::temp_directory_path() / "reply_script_test.json").string();
  std::ofstream(path) << text;
  absl::StatusOr<smtp::client::ClientScenario> back = ReadScenarioFile(path);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->server.extensions, s.extensions);
  ASSERT_EQ(back->server.replies.at("RCPT").size(), 1u);
  EXPECT_EQ(back->server.replies.at("RCPT")[0].bytes, "251 forward\r\n");
  EXPECT_EQ(back->server.replies.at("RCPT")[0].delay, std::chrono::milliseconds(20));
  EXPECT_TRUE(back->server.replies.at("QUIT")[0].close);
  EXPECT_EQ(back->server.reply_lines, 9);
  EXPECT_EQ(back->message, "M\r\n");
  std::filesystem::remove(path);
}

TEST(ReplyScript, UnitsTakeOutOneThingEach) {
  const ServerScript s = Sample();
  const std::vector<ScriptUnit> units = ScriptUnits(s);
  // 2 replies, 3 extensions, reply_lines, the RCPT delay, 3 shortenings.
  ASSERT_EQ(units.size(), 10u);
  std::size_t fewer = 0;
  for (const ScriptUnit& u : units) {
    const ServerScript c = WithoutUnit(s, u);
    fewer += ScriptUnits(c).size() < units.size() ? 1 : 0;
  }
  // Every unit but the shortenings removes itself (and the RCPT reply
  // takes its delay with it too; an extension its shortening).
  EXPECT_EQ(fewer, 7u);
  // Shortening: to the keyword, halves, then octet by octet.
  ServerScript x;
  x.extensions = std::vector<std::string>{"SIZE 100", "DSN" + std::string(40, 'P')};
  const ScriptUnit first{ScriptUnit::Kind::kExtensionShorten, "", 0};
  const ScriptUnit second{ScriptUnit::Kind::kExtensionShorten, "", 1};
  EXPECT_EQ((*WithoutUnit(x, first).extensions)[0], "SIZE");
  ServerScript y = x;
  for (int i = 0; i < 20 && (*y.extensions)[1] != "DSN"; ++i) y = WithoutUnit(y, second);
  EXPECT_EQ((*y.extensions)[1], "DSN");
}

TEST(ReplyMutator, DeterministicAndSerializable) {
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    ServerScript a, b;
    Rng ra(seed), rb(seed);
    for (int i = 0; i < 20; ++i) {
      MutateScript(&a, ClientMode::kPlain, ra);
      MutateScript(&b, ClientMode::kPlain, rb);
    }
    EXPECT_EQ(ScriptToJson(a), ScriptToJson(b));
    // What the mutator makes, the scenario parser takes.
    const std::string text = ScenarioFileFor(a, ClientMode::kPlain, "fuzz.x", "t", "M\r\n");
    EXPECT_TRUE(smtp::client::ParseClientScenario(text, "x.json").ok())
        << smtp::client::ParseClientScenario(text, "x.json").status() << "\n"
        << text;
  }
}

}  // namespace
}  // namespace smtp::fuzz::client
