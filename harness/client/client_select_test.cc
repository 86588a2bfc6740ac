#include "harness/client/client_select.h"

#include <gtest/gtest.h>

namespace smtp::client {
namespace {

ClientScenario Make(std::string id, std::string level, std::vector<std::string> tags) {
  ClientScenario s;
  s.id = std::move(id);
  s.level = std::move(level);
  s.tags = std::move(tags);
  return s;
}

std::vector<ClientScenario> Suite() {
  return {Make("client.dot-stuffing.lone-dot", "MUST", {"dot-stuffing"}),
          Make("client.downgrade.no-starttls", "security", {"downgrade", "tls"}),
          Make("client.reply.unknown-257-rcpt", "SHOULD", {"reply-codes", "first-digit"})};
}

std::vector<std::string> Ids(const ClientSelection& s) {
  std::vector<std::string> out;
  for (const ClientScenario& c : s.scenarios) out.push_back(c.id);
  return out;
}

scenario::SuiteFilter Filter(std::vector<std::string> ids, std::vector<std::string> tags,
                             std::vector<std::string> levels) {
  return *scenario::MakeSuiteFilter(std::move(ids), std::move(tags), levels);
}

TEST(SelectClientScenariosTest, FiltersAsRunDoes) {
  EXPECT_EQ(Ids(SelectClientScenarios(Suite(), {})).size(), 3u);
  EXPECT_EQ(
      Ids(SelectClientScenarios(Suite(), Filter({}, {"tls", "dot-stuffing"}, {}))),
      (std::vector<std::string>{"client.dot-stuffing.lone-dot", "client.downgrade.no-starttls"}));
  // Levels in any case, ANDed with the tags.
  EXPECT_EQ(Ids(SelectClientScenarios(Suite(), Filter({}, {"tls", "dot-stuffing"}, {"must"}))),
            (std::vector<std::string>{"client.dot-stuffing.lone-dot"}));
  const ClientSelection s =
      SelectClientScenarios(Suite(), Filter({"client.d*", "!*lone*"}, {}, {}));
  EXPECT_EQ(Ids(s), (std::vector<std::string>{"client.downgrade.no-starttls"}));
  EXPECT_EQ(s.filtered_out, 2u);
  EXPECT_TRUE(s.notes.empty());
}

TEST(SelectClientScenariosTest, UnmatchedEntriesSayTheClosestName) {
  const ClientSelection s =
      SelectClientScenarios(Suite(), Filter({"client.dot-stufing.*"}, {"downgrad", "zzzz"}, {}));
  EXPECT_TRUE(s.scenarios.empty());
  EXPECT_EQ(s.notes, (std::vector<std::string>{
                         "--filter 'client.dot-stufing.*' matches no client scenario id (did you "
                         "mean 'client.dot-stuffing.*'?)",
                         "--tag 'downgrad' matches no client scenario (did you mean 'downgrade'?)",
                         "--tag 'zzzz' matches no client scenario"}));
}

}  // namespace
}  // namespace smtp::client
