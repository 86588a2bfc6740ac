#include "harness/server/sink.h"

#include <dirent.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace smtp::server {
namespace {

std::string TempDir() {
  std::string tmpl = ::testing::TempDir() + "sinkXXXXXX";
  char* d = mkdtemp(tmpl.data());
  EXPECT_NE(d, nullptr);
  return tmpl;
}

std::vector<std::string> List(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] != '.') names.push_back(e->d_name);
    }
    closedir(d);
  }
  return names;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

MessageInfo Info(std::string_view body) {
  MessageInfo i;
  i.envelope.mail_from = "a@x.test";
  i.envelope.rcpt_to = {"b@y.test", "c@y.test"};
  i.envelope.transfer = "DATA";
  i.size = body.size();
  i.sha256 = Sha256Hex(body);
  i.data_end = "crlf.crlf";
  return i;
}

TEST(Sha256Test, KnownVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 h;  // incremental == one shot, and FinalHex resets
  h.Update("a");
  h.Update("bc");
  EXPECT_EQ(h.FinalHex(), Sha256Hex("abc"));
  EXPECT_EQ(h.FinalHex(), Sha256Hex(""));
}

TEST(MaildirSinkTest, CommitMovesTmpToNew) {
  const std::string dir = TempDir() + "/Maildir";
  SinkConfig cfg;
  cfg.kind = SinkConfig::Kind::kMaildir;
  cfg.path = dir;
  auto sink = MakeSink(cfg);
  ASSERT_TRUE(sink.ok()) << sink.status();
  for (const char* sub : {"/tmp", "/new", "/cur"}) EXPECT_TRUE(List(dir + sub).empty()) << sub;

  const std::string body = "Subject: x\r\n\r\n.line\r\n";
  auto w = (*sink)->Open();
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Append(body.substr(0, 5)).ok());
  ASSERT_TRUE((*w)->Append(body.substr(5)).ok());
  EXPECT_EQ(List(dir + "/tmp").size(), 1u);
  EXPECT_TRUE(List(dir + "/new").empty());  // readers never see a partial message
  auto id = (*w)->Commit(Info(body));
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_TRUE(List(dir + "/tmp").empty());
  ASSERT_EQ(List(dir + "/new"), std::vector<std::string>{*id});
  EXPECT_EQ(Slurp(dir + "/new/" + *id), body);

  // Abandoned (never committed): nothing left behind.
  {
    auto w2 = (*sink)->Open();
    ASSERT_TRUE(w2.ok());
    ASSERT_TRUE((*w2)->Append("partial").ok());
  }
  EXPECT_TRUE(List(dir + "/tmp").empty());
  EXPECT_EQ(List(dir + "/new").size(), 1u);
  EXPECT_EQ((*sink)->committed(), 1u);
}

TEST(JsonlSinkTest, OneLinePerMessage) {
  const std::string path = TempDir() + "/mail.jsonl";
  SinkConfig cfg;
  cfg.kind = SinkConfig::Kind::kJsonl;
  cfg.path = path;
  cfg.body_limit = 4;
  auto sink = MakeSink(cfg);
  ASSERT_TRUE(sink.ok()) << sink.status();
  std::vector<std::string> ids;
  for (std::string_view body : {"abc", "0123456789"}) {
    auto w = (*sink)->Open();
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append(body).ok());
    auto id = (*w)->Commit(Info(body));
    ASSERT_TRUE(id.ok());
    ids.push_back(*id);
  }
  std::istringstream lines(Slurp(path));
  std::string line;
  std::vector<nlohmann::json> records;
  while (std::getline(lines, line)) records.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0]["id"], ids[0]);
  EXPECT_EQ(records[0]["size"], 3);
  EXPECT_EQ(records[0]["sha256"], Sha256Hex("abc"));
  EXPECT_EQ(records[0]["envelope"]["mail_from"], "a@x.test");
  EXPECT_EQ(records[0]["envelope"]["rcpt_to"], nlohmann::json({"b@y.test", "c@y.test"}));
  EXPECT_EQ(records[0]["body_b64"], "YWJj");
  EXPECT_EQ(records[0]["body_truncated"], false);
  EXPECT_EQ(records[1]["body_b64"], "MDEyMw==");
  EXPECT_EQ(records[1]["body_truncated"], true);
  EXPECT_EQ(records[1]["data_end"], "crlf.crlf");
}

TEST(MemorySinkTest, KeepsTheLastMessages) {
  MemorySink sink(2, 3);
  for (std::string_view body : {"one", "two", "three"}) {
    auto w = sink.Open();
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append(body).ok());
    ASSERT_TRUE((*w)->Commit(Info(body)).ok());
  }
  const std::vector<StoredMessage> m = sink.Messages();
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].body, "two");
  EXPECT_EQ(m[1].body, "thr");
  EXPECT_TRUE(m[1].truncated);
  EXPECT_EQ(sink.committed(), 3u);
}

TEST(MemorySinkTest, MessagesFromSelectsByClient) {
  MemorySink sink;
  for (std::string_view client : {"127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:1"}) {
    auto w = sink.Open();
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append(client).ok());
    MessageInfo info = Info(client);
    info.envelope.client = std::string(client);
    ASSERT_TRUE((*w)->Commit(info).ok());
  }
  EXPECT_EQ(sink.MessagesFrom({"127.0.0.1:1"}).size(), 2u);
  const std::vector<StoredMessage> two = sink.MessagesFrom({"127.0.0.1:2", "127.0.0.1:9"});
  ASSERT_EQ(two.size(), 1u);
  EXPECT_EQ(two[0].body, "127.0.0.1:2");
  EXPECT_TRUE(sink.MessagesFrom({}).empty());
  EXPECT_EQ(sink.MessagesFrom({"127.0.0.1:1", "127.0.0.1:2"}).size(), 3u);
}

// Only the sinks that keep MessageInfo::sha256 make sessions hash bodies.
TEST(SinkTest, WhichSinksWantTheDigest) {
  const std::string dir = TempDir();
  const struct {
    SinkConfig::Kind kind;
    std::string path;
    bool wants;
  } kCases[] = {
      {SinkConfig::Kind::kDiscard, "", false},
      {SinkConfig::Kind::kMaildir, dir + "/maildir", false},
      {SinkConfig::Kind::kJsonl, dir + "/mail.jsonl", true},
      {SinkConfig::Kind::kMemory, "", true},
  };
  for (const auto& c : kCases) {
    SinkConfig cfg;
    cfg.kind = c.kind;
    cfg.path = c.path;
    auto sink = MakeSink(cfg);
    ASSERT_TRUE(sink.ok()) << sink.status();
    EXPECT_EQ((*sink)->wants_sha256(), c.wants) << static_cast<int>(c.kind);
  }
}

// An id carries the pid of the process that committed it ("...P<pid>Q<seq>"):
// the pid is cached, and a fork()ed child must not reuse its parent's.
std::string CommitId() {
  SinkConfig cfg;
  cfg.kind = SinkConfig::Kind::kDiscard;
  auto sink = MakeSink(cfg);
  if (!sink.ok()) return "";
  auto writer = (*sink)->Open();
  if (!writer.ok()) return "";
  absl::StatusOr<std::string> id = (*writer)->Commit(Info("x"));
  return id.ok() ? *id : "";
}

TEST(SinkTest, IdsCarryThePidOfTheCommittingProcess) {
  const std::string mine = "P" + std::to_string(getpid()) + "Q";
  EXPECT_NE(CommitId().find(mine), std::string::npos);
  EXPECT_NE(CommitId().find(mine), std::string::npos);  // the cached pid
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const std::string id = CommitId() + "\n" + std::to_string(getpid());
    const bool ok = write(fds[1], id.data(), id.size()) == static_cast<ssize_t>(id.size());
    _exit(ok ? 0 : 1);
  }
  close(fds[1]);
  std::string got;
  char buf[256];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) got.append(buf, n);
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  const std::size_t nl = got.find('\n');
  ASSERT_NE(nl, std::string::npos) << got;
  const std::string child_pid = got.substr(nl + 1);
  EXPECT_NE(child_pid, std::to_string(getpid()));
  EXPECT_NE(got.substr(0, nl).find("P" + child_pid + "Q"), std::string::npos) << got;
}

TEST(SinkTest, BadConfigurations) {
  SinkConfig cfg;
  cfg.kind = SinkConfig::Kind::kMaildir;
  EXPECT_FALSE(MakeSink(cfg).ok());
  cfg.kind = SinkConfig::Kind::kJsonl;
  cfg.path = "/nonexistent-dir/x.jsonl";
  EXPECT_FALSE(MakeSink(cfg).ok());
}

}  // namespace
}  // namespace smtp::server
