#include "app/catalogue.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace smtp::app {
namespace {

using scenario::Level;
using scenario::Scenario;

Scenario Make(std::string id, Level level, std::string section, std::string title, std::string file,
              std::vector<std::string> requires_ext = {}, std::string url = "") {
  Scenario s;
  s.id = std::move(id);
  s.level = level;
  s.rfc.document = "RFC 5321";
  s.rfc.section = std::move(section);
  s.rfc.url = std::move(url);
  s.title = std::move(title);
  s.file = std::move(file);
  s.requires_extensions = std::move(requires_ext);
  return s;
}

TEST(CatalogueGroup, Table) {
  struct Case {
    std::string file;
    std::vector<std::string> roots;
    std::string want;
  };
  const Case cases[] = {
      {"scenarios/extensions/auth/x.json", {"scenarios"}, "extensions/auth"},
      {"scenarios/x.json", {"scenarios"}, "."},
      {"/repo/scenarios/core/a.json", {"/repo/scenarios/"}, "core"},
      {"./scenarios/core/a.json", {"scenarios"}, "core"},
      // The first root that contains the file wins.
      {"s/core/a.json", {"other", "s"}, "core"},
      // A file given by name (outside every root): its directory as written.
      {"elsewhere/one.json", {"scenarios"}, "elsewhere"},
      {"one.json", {"one.json"}, "."},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(CatalogueGroup(c.file, c.roots), c.want) << c.file;
  }
}

TEST(RfcLabel, WithAndWithoutSection) {
  scenario::RfcReference r{"RFC 3030", "2", ""};
  EXPECT_EQ(RfcLabel(r), "RFC 3030 §2");
  r.section.clear();
  EXPECT_EQ(RfcLabel(r), "RFC 3030");
}

TEST(FormatPlainList, AlignsColumns) {
  const std::vector<Scenario> list = {
      Make("a.long-id", Level::kMust, "4.1.4", "First", "s/a.json"),
      Make("b", Level::kSecurity, "2.3.8", "Second", "s/b.json"),
  };
  EXPECT_EQ(FormatPlainList(list),
            "a.long-id  MUST      RFC 5321 §4.1.4  First\n"
            "b          security  RFC 5321 §2.3.8  Second\n");
  EXPECT_EQ(FormatPlainList({}), "");
}

TEST(FormatMarkdownCatalogue, GoldenTwoGroups) {
  const std::vector<Scenario> list = {
      Make("core.one", Level::kMust, "4.2", "One | with a pipe", "scenarios/core/one.json", {},
           "https://www.rfc-editor.org/rfc/rfc5321#section-4.2"),
      Make("ext.two", Level::kShould, "2", "Two", "scenarios/extensions/size/two.json",
           {"SIZE", "PIPELINING"}),
      Make("core.three", Level::kPolicy, "7.9", "Three", "scenarios/core/three.json"),
  };
  EXPECT_EQ(FormatMarkdownCatalogue(list, {"scenarios"}),
            "| group | scenarios | MUST | SHOULD | MAY | policy | security |\n"
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n"
            "| core | 2 | 1 | 0 | 0 | 1 | 0 |\n"
            "| extensions/size | 1 | 0 | 1 | 0 | 0 | 0 |\n"
            "| **total** | **3** | 1 | 1 | 0 | 1 | 0 |\n"
            "\n### core (2)\n\n"
            "| id | level | RFC | requires | title |\n| --- | --- | --- | --- | --- |\n"
            "| `core.one` | MUST | [RFC 5321 §4.2](https://www.rfc-editor.org/rfc/"
            "rfc5321#section-4.2) |  | One \\| with a pipe |\n"
            "| `core.three` | policy | RFC 5321 §7.9 |  | Three |\n"
            "\n### extensions/size (1)\n\n"
            "| id | level | RFC | requires | title |\n| --- | --- | --- | --- | --- |\n"
            "| `ext.two` | SHOULD | RFC 5321 §2 | SIZE PIPELINING | Two |\n");
}

TEST(FormatMarkdownCatalogue, EmptySuiteHasOnlyTheSummary) {
  EXPECT_EQ(FormatMarkdownCatalogue({}, {"scenarios"}),
            "| group | scenarios | MUST | SHOULD | MAY | policy | security |\n"
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n"
            "| **total** | **0** | 0 | 0 | 0 | 0 | 0 |\n");
}

}  // namespace
}  // namespace smtp::app
