#include "reports/fuzz_report.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "reports/assets.h"
#include "reports/test_util.h"
#include "results/absl_compat.h"

namespace smtp::reports {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::JsonBlock;
using testing::Occurrences;

const fs::path kFixture = fs::path(SMTP_REPORTS_TESTDATA) / "fuzz";
constexpr std::string_view kHostile = "<script>alert(1)</script>\"'&";

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteAll(const fs::path& p, std::string_view text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
}

// A private copy of the fixture to change.
class FuzzReportCopy : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("smtp_fuzz_report_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::copy(kFixture, dir_, fs::copy_options::recursive);
  }
  void TearDown() override { fs::remove_all(dir_); }

  json Fuzz() { return json::parse(ReadAll(dir_ / "fuzz.json")); }
  void SetFuzz(const json& j) { WriteAll(dir_ / "fuzz.json", j.dump(1)); }

  fs::path dir_;
};

TEST(FuzzReport, FixtureRendersEveryBucketWithItsTranscriptAndReplay) {
  auto data = ReadFuzzReportData(kFixture.string());
  ASSERT_TRUE(data.ok()) << data.status();
  ASSERT_EQ((*data)["findings"].size(), 2u);
  for (const json& f : (*data)["findings"]) {
    EXPECT_FALSE(f.contains("transcript_error")) << f["transcript_error"];
    ASSERT_TRUE(f.contains("transcript"));
    EXPECT_FALSE(f["transcript"]["entries"].empty());
  }
  // The BDAT finding's transcript is its session.json, entries as written.
  const json& bdat = (*data)["findings"][0];
  EXPECT_EQ(bdat["bucket"], "dropped-BDAT-250");
  const json session =
      json::parse(ReadAll(kFixture / "findings" / "dropped-BDAT-250" / "session.json"));
  EXPECT_EQ(bdat["transcript"]["entries"], session["entries"]);

  FuzzReportOptions o;
  o.nonce = "n0nce";
  const std::string html = RenderFuzzReport(*data, o);
  EXPECT_TRUE(html.starts_with("<!DOCTYPE html>"));
  EXPECT_NE(html.find("<title>smtp-harness fuzz: embedded:planted</title>"), std::string::npos);
  EXPECT_EQ(json::parse(JsonBlock(html, "report-data")), *data);
  EXPECT_EQ(json::parse(JsonBlock(html, "report-config")), json::object());
  for (std::string_view want :
       {"\"bucket\":\"dropped-BDAT-250\"", "\"bucket\":\"dropped-HELP-220\"",
        "\"replay\":\"smtp-harness replay /tmp/fz8/findings/dropped-BDAT-250/session.json "
        "--target 127.0.0.1:PORT (smtp-harness serve --behavior planted --port PORT)\"",
        "\"timeline\":[", "BDAT 0 LAST\\\\r\\\\n"}) {
    EXPECT_NE(html.find(want), std::string::npos) << want;
  }
  EXPECT_NE(html.find("<script nonce=\"n0nce\">"), std::string::npos);
  EXPECT_EQ(html.find("{{"), std::string::npos);
}

TEST_F(FuzzReportCopy, WriteFuzzReportWritesIndexHtmlAtomically) {
  ASSERT_TRUE(WriteFuzzReport(dir_.string()).ok());
  const std::string html = ReadAll(dir_ / "index.html");
  EXPECT_TRUE(html.starts_with("<!DOCTYPE html>"));
  EXPECT_NE(html.find("dropped-HELP-220"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir_ / "index.html.tmp"));
  // Written again as the run goes on: replaced, not appended to.
  ASSERT_TRUE(WriteFuzzReport(dir_.string()).ok());
  EXPECT_EQ(Occurrences(ReadAll(dir_ / "index.html"), "<!DOCTYPE html>"), 1);
}

// Server bytes and fuzz.json strings stay inside the JSON block: no new
// element, the payload never appears as markup, and it parses back intact.
TEST_F(FuzzReportCopy, HostileStringsAreEscaped) {
  json fuzz = Fuzz();
  const std::string bad(kHostile);
  fuzz["target"] = bad;
  fuzz["command_line"] = bad;
  fuzz["started_at"] = bad;
  for (json& f : fuzz["findings"]) {
    for (const char* key : {"detail", "replay", "steps", "verb", "oracle", "error", "bucket"}) {
      f[key] = bad + "</script><!--";
    }
  }
  SetFuzz(fuzz);
  const fs::path session = dir_ / "findings" / "dropped-HELP-220" / "session.json";
  json s = json::parse(ReadAll(session));
  // The transcript encoding writes printable ASCII as itself: the payload
  // as the server sent it, plus a control byte.
  s["entries"].push_back({{"t_us", 10}, {"kind", "s2c"}, {"data", bad + "\\x1b[31m\\r\\n"}});
  WriteAll(session, s.dump());

  ASSERT_TRUE(WriteFuzzReport(dir_.string()).ok());
  const std::string html = ReadAll(dir_ / "index.html");
  EXPECT_EQ(html.find("<script>alert(1)"), std::string::npos);
  EXPECT_EQ(html.find("alert(1)</script>"), std::string::npos);
  EXPECT_EQ(Occurrences(html, "<script"), 3);
  EXPECT_EQ(Occurrences(html, "</script"), 3);
  EXPECT_EQ(Occurrences(html, "<!--"), 0);
  EXPECT_NE(html.find("<title>smtp-harness fuzz: &lt;script&gt;alert(1)&lt;/script&gt;&quot;"),
            std::string::npos);
  EXPECT_NE(html.find("\\u003cscript\\u003ealert(1)"), std::string::npos);
  const json data = json::parse(JsonBlock(html, "report-data"));
  EXPECT_EQ(data["findings"][0]["detail"], bad + "</script><!--");
  EXPECT_EQ(data["findings"][1]["transcript"]["entries"].back()["data"], bad + "\\x1b[31m\\r\\n");
}

TEST_F(FuzzReportCopy, BadFuzzJsonIsAnErrorNamingTheFile) {
  const std::string path = (dir_ / "fuzz.json").string();
  struct Case {
    std::string text, want;
  } cases[] = {
      {"{\"findings\": [}", path + ": not valid JSON: parse error at line 1, column 15"},
      {"[1, 2]", path + ": not a JSON object"},
      {"{\"findings\": {}}", path + ": \"findings\" is not an array"},
      {"{\"findings\": [1]}", path + ": \"findings\"[0] is not an object"},
      {"{\"timeline\": \"x\"}", path + ": \"timeline\" is not an array"},
      {"{\"stats\": 3}", path + ": \"stats\" is not an object"},
  };
  for (const Case& c : cases) {
    WriteAll(path, c.text);
    auto data = ReadFuzzReportData(dir_.string());
    ASSERT_FALSE(data.ok()) << c.text;
    EXPECT_EQ(data.status().code(), absl::StatusCode::kInvalidArgument) << c.text;
    EXPECT_TRUE(Message(data.status()).starts_with(c.want)) << Message(data.status());
    // WriteFuzzReport says the same and leaves no page behind.
    EXPECT_EQ(Message(WriteFuzzReport(dir_.string())), Message(data.status()));
    EXPECT_FALSE(fs::exists(dir_ / "index.html"));
  }
  fs::remove(path);
  auto missing = ReadFuzzReportData(dir_.string());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(Message(missing.status()).find("cannot open " + path), std::string::npos);
}

TEST_F(FuzzReportCopy, FuzzJsonOverTheLimitIsRefused) {
  FuzzReportOptions o;
  o.max_fuzz_json_bytes = 100;
  auto data = ReadFuzzReportData(dir_.string(), o);
  EXPECT_EQ(data.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(Message(data.status()).find((dir_ / "fuzz.json").string()), std::string::npos);
}

// A finding whose session file is gone, broken, too big, or named by an
// unsafe "dir" keeps its row, with a note instead of the transcript.
TEST_F(FuzzReportCopy, FindingWithoutReadableSessionKeepsItsRowWithANote) {
  fs::remove(dir_ / "findings" / "dropped-BDAT-250" / "session.json");
  auto data = ReadFuzzReportData(dir_.string());
  ASSERT_TRUE(data.ok()) << data.status();
  const json& bdat = (*data)["findings"][0];
  EXPECT_FALSE(bdat.contains("transcript"));
  EXPECT_EQ(bdat["transcript_error"].get<std::string>().rfind(
                "no findings/dropped-BDAT-250/session.json: ", 0),
            0u)
      << bdat["transcript_error"];
  EXPECT_TRUE((*data)["findings"][1].contains("transcript"));
  EXPECT_EQ(bdat["replay"], Fuzz()["findings"][0]["replay"]);
  ASSERT_TRUE(WriteFuzzReport(dir_.string()).ok());
  EXPECT_NE(ReadAll(dir_ / "index.html").find("\"transcript_error\":\"no findings/dropped-BDAT"),
            std::string::npos);

  WriteAll(dir_ / "findings" / "dropped-HELP-220" / "session.json", "{\"version\": 1,");
  data = ReadFuzzReportData(dir_.string());
  ASSERT_TRUE(data.ok());
  EXPECT_NE((*data)["findings"][1]["transcript_error"].get<std::string>().find("session.json"),
            std::string::npos);

  json fuzz = Fuzz();
  const std::string escape = "../../../etc";
  fuzz["findings"][0]["dir"] = escape;
  fuzz["findings"][1]["dir"] = "/etc";
  SetFuzz(fuzz);
  data = ReadFuzzReportData(dir_.string());
  ASSERT_TRUE(data.ok());
  for (const json& f : (*data)["findings"]) {
    EXPECT_NE(f["transcript_error"].get<std::string>().find("not opened"), std::string::npos);
  }
}

TEST_F(FuzzReportCopy, TranscriptsBeyondTheTotalLimitAreNotEmbedded) {
  FuzzReportOptions o;
  o.max_transcript_bytes_total = 1000;  // the first session file (1,375 bytes) is over it
  auto data = ReadFuzzReportData(dir_.string(), o);
  ASSERT_TRUE(data.ok());
  EXPECT_NE((*data)["findings"][0]["transcript_error"].get<std::string>().find("limit"),
            std::string::npos);
  EXPECT_TRUE((*data)["findings"][1].contains("transcript"));  // 641 bytes: fits
}

TEST(FuzzReport, PollsOnlyWhileInProgress) {
  auto data = ReadFuzzReportData(kFixture.string());
  ASSERT_TRUE(data.ok());
  FuzzReportOptions live;
  live.poll_url = "fuzz-data.json";
  live.poll_interval_ms = 1500;
  EXPECT_EQ(json::parse(JsonBlock(RenderFuzzReport(*data, live), "report-config")), json::object());
  (*data)["complete"] = false;
  EXPECT_EQ(json::parse(JsonBlock(RenderFuzzReport(*data, live), "report-config")),
            (json{{"poll_url", "fuzz-data.json"}, {"poll_interval_ms", 1500}}));
  EXPECT_EQ(json::parse(JsonBlock(RenderFuzzReport(*data), "report-config")), json::object());
}

// The fuzz page's script is held to the same rules as the run report's.
TEST(FuzzReport, ScriptHasNoHtmlSinksAndFetchesNothing) {
  const std::string js = FuzzScript();
  for (std::string_view sink : {"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write",
                                "eval(", "new Function", "setAttribute('on", "srcdoc"}) {
    EXPECT_EQ(js.find(sink), std::string::npos) << sink;
  }
  for (std::string_view bad : {"</script", "</SCRIPT", "<!--"}) {
    EXPECT_EQ(js.find(bad), std::string::npos) << bad;
  }
  const std::regex url("https?://[^'\"\\s)]+");
  for (auto it = std::sregex_iterator(js.begin(), js.end(), url); it != std::sregex_iterator();
       ++it) {
    EXPECT_TRUE(it->str() == "https://www.rfc-editor.org/rfc/rfc" ||
                it->str() == "http://www.w3.org/2000/svg")
        << it->str();
  }
}

}  // namespace
}  // namespace smtp::reports
