#include "results/redact.h"

#include <cstddef>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "results/transcript.h"

namespace smtp::harness {
namespace {

constexpr char kPassword[] = "s3cret-pw";
// base64("\0alice\0s3cret-pw"): the AUTH PLAIN blob the runner derives.
constexpr char kBlob[] = "AGFsaWNlAHMzY3JldC1wdw==";
// base64("s3cret-pw"): the AUTH LOGIN password line.
constexpr char kLoginPassword[] = "czNjcmV0LXB3";

std::vector<std::string> Secrets() { return {kPassword, kBlob, kLoginPassword}; }

struct TextCase {
  std::string text;
  std::vector<std::string> secrets;
  std::string want;
};

TEST(RedactText, Table) {
  const TextCase cases[] = {
      {"", {"pw"}, ""},
      {"no secret here", {"s3cret"}, "no secret here"},
      {"a s3cret b s3cret", {"s3cret"}, "a *** b ***"},
      {"a short pw", {"pw"}, "a short ***"},
      {"empty secrets hide nothing", {""}, "empty secrets hide nothing"},
      // Overlapping occurrences are one range; touching ones stay two.
      {"<abcdefgh>", {"abcdef", "defgh"}, "<***>"},
      {"passpass", {"pass"}, "******"},
      {"passport", {"pass", "passport"}, "***"},
      // A secret cut off at the end of the text or at a quote's cut marker.
      {"got 535 AGFsaWNl", Secrets(), "got 535 ***"},
      {"got 535 AGFs", Secrets(), "got 535 ***"},  // kMinRedactedFragment bytes
      {"got 535 AGF", Secrets(), "got 535 AGF"},   // shorter: kept
      {"got AGFsaWNlAH... (300 bytes), then AGFsaWNl... (9 bytes)", Secrets(),
       "got ***... (300 bytes), then ***... (9 bytes)"},
      {"s3cr... s3cre", Secrets(), "***... ***"},
      // A secret of kMinRedactedFragment bytes has no long enough prefix.
      {"ends in abc", {"abcd"}, "ends in abc"},
  };
  for (const TextCase& c : cases) EXPECT_EQ(RedactText(c.text, c.secrets), c.want) << c.text;
}

TEST(RedactText, EscapedFormsOfSecretsInQuotedBytes) {
  const std::vector<std::string> secrets = WithEscapedForms({"pa\\ss\xc3\xa9", "plain"});
  EXPECT_EQ(secrets, (std::vector<std::string>{"pa\\ss\xc3\xa9", "plain", "pa\\\\ss\\xc3\\xa9"}));
  EXPECT_EQ(RedactText("got \"535 pa\\\\ss\\xc3\\xa9\\r\\n\", plain", secrets),
            "got \"535 ***\\r\\n\", ***");
}

TEST(FindSecrets, RangesAreSortedAndMerged) {
  EXPECT_EQ(FindSecrets("xabcabcx", {"abca", "bc"}), (std::vector<ByteRange>{{1, 5}, {5, 7}}));
  EXPECT_EQ(FindSecrets("aaaa", {"aa"}), (std::vector<ByteRange>{{0, 4}}));
  EXPECT_TRUE(FindSecrets("abc", {}).empty());
}

TEST(SecretFragmentAtEnd, LongestProperPrefix) {
  EXPECT_EQ(SecretFragmentAtEnd("x AGFsaWNlAHMz", Secrets()), 12u);
  EXPECT_EQ(SecretFragmentAtEnd("x AGF", Secrets()), 0u);
  EXPECT_EQ(SecretFragmentAtEnd(std::string("x ") + kBlob, Secrets()),
            0u);  // whole: not a fragment
  EXPECT_EQ(SecretFragmentAtEnd("s3cr", Secrets()), 4u);
}

// --- Transcript::RedactStreams -------------------------------------------

struct Chunk {
  Direction dir;
  std::string bytes;
};

struct StreamCase {
  std::string name;
  std::vector<Chunk> chunks;
  std::string want_c2s;  // each side's stored data joined, after redaction
  std::string want_s2c;
  std::vector<std::string> secrets = Secrets();
};

// `bytes` in `n`-byte chunks (the last may be shorter).
std::vector<Chunk> Split(Direction dir, const std::string& bytes, std::size_t n) {
  std::vector<Chunk> out;
  for (std::size_t at = 0; at < bytes.size(); at += n) out.push_back({dir, bytes.substr(at, n)});
  return out;
}

const std::string kEcho = std::string("535 5.7.8 bad credentials: AUTH PLAIN ") + kBlob + "\r\n";
const std::string kEchoRedacted = "535 5.7.8 bad credentials: AUTH PLAIN ***\r\n";

std::vector<StreamCase> StreamCases() {
  constexpr Direction kC = Direction::kClientToServer;
  constexpr Direction kS = Direction::kServerToClient;
  std::vector<StreamCase> cases;
  // The echo split into two chunks at every byte boundary.
  for (std::size_t k = 1; k < kEcho.size(); ++k) {
    cases.push_back({"two chunks at " + std::to_string(k),
                     {{kS, kEcho.substr(0, k)}, {kS, kEcho.substr(k)}},
                     "",
                     kEchoRedacted});
  }
  for (std::size_t n : {1, 2, 3, 5, 7}) {
    cases.push_back({std::to_string(n) + "-byte chunks", Split(kS, kEcho, n), "", kEchoRedacted});
  }
  cases.push_back({"password in 1-byte chunks",
                   Split(kC, std::string("NOOP ") + kPassword + "\r\n", 1), "NOOP ***\r\n", ""});
  cases.push_back({"login password line in 3-byte chunks",
                   Split(kS, std::string("500 unknown: ") + kLoginPassword + "\r\n", 3), "",
                   "500 unknown: ***\r\n"});
  // Overlapping secrets: one range, one marker.
  cases.push_back({"overlapping secrets, 1-byte chunks",
                   Split(kS, "<s3cret-pw-tail>", 1),
                   "",
                   "<***>",
                   {kPassword, "pw-tail"}});
  cases.push_back({"one secret inside another, 1-byte chunks",
                   Split(kS, "[s3cret-pw]", 1),
                   "",
                   "[***]",
                   {"cret", kPassword}});
  {
    // The blob in both directions; the server's echo interleaved with
    // client writes (each side is its own stream).
    StreamCase c{"both directions, interleaved", {}, "AUTH PLAIN ***\r\nNOOP\r\n", kEchoRedacted};
    c.chunks.push_back({kC, std::string("AUTH PLAIN ") + kBlob + "\r\n"});
    const std::vector<Chunk> echo = Split(kS, kEcho, 3);
    for (std::size_t i = 0; i < echo.size(); ++i) {
      c.chunks.push_back(echo[i]);
      if (i == echo.size() / 2) c.chunks.push_back({kC, "NOOP\r\n"});
    }
    cases.push_back(c);
  }
  cases.push_back({"two echoes back to back in 2-byte chunks", Split(kS, kEcho + kEcho, 2), "",
                   kEchoRedacted + kEchoRedacted});
  // The conversation ends inside the secret.
  cases.push_back(
      {"ends inside the blob", Split(kS, std::string("535 ") + kBlob + "X", 1), "", "535 ***X"});
  cases.push_back({"ends after 10 blob bytes",
                   Split(kS, std::string("535 ") + std::string(kBlob).substr(0, 10), 1), "",
                   "535 ***"});
  cases.push_back({"ends after 3 blob bytes (kept: shorter than kMinRedactedFragment)",
                   Split(kS, "535 AGF", 1), "", "535 AGF"});
  cases.push_back({"no secret", Split(kS, "250 ok\r\n", 1), "", "250 ok\r\n"});
  return cases;
}

TEST(RedactStreams, SecretSplitAcrossChunks) {
  for (const StreamCase& c : StreamCases()) {
    SCOPED_TRACE(c.name);
    Transcript t;
    std::int64_t t_us = 0;
    for (const Chunk& chunk : c.chunks) t.AddDataAt(t_us += 10, chunk.dir, chunk.bytes);
    t.AddEventAt(t_us + 10, EntryKind::kPeerClosed);
    const Transcript before = t;
    t.RedactStreams(c.secrets);

    EXPECT_EQ(t.SideBytes(Direction::kClientToServer), c.want_c2s);
    EXPECT_EQ(t.SideBytes(Direction::kServerToClient), c.want_s2c);
    for (const Direction dir : {Direction::kClientToServer, Direction::kServerToClient}) {
      const std::string joined = t.SideBytes(dir);
      for (const std::string& s : c.secrets) EXPECT_EQ(joined.find(s), std::string::npos) << s;
      EXPECT_EQ(t.total_bytes(dir), before.total_bytes(dir));
    }
    // Same entries (kinds, timestamps), each with its count of bytes not stored.
    ASSERT_EQ(t.entries().size(), before.entries().size());
    for (std::size_t i = 0; i < t.entries().size(); ++i) {
      const Entry& got = t.entries()[i];
      const Entry& was = before.entries()[i];
      EXPECT_EQ(got.kind, was.kind) << i;
      EXPECT_EQ(got.t_us, was.t_us) << i;
      EXPECT_EQ(got.size - got.data.size(), was.size - was.data.size()) << i;
    }
    // The JSON form round-trips and holds no secret either.
    const std::string json = t.ToJsonString();
    for (const std::string& s : c.secrets) EXPECT_EQ(json.find(s), std::string::npos) << s;
    auto back = Transcript::FromJsonString(json);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, t);
  }
}

TEST(RedactStreams, MarkerGoesWhereTheSecretStarts) {
  Transcript t;
  t.AddData(Direction::kServerToClient, "535 s3c");
  t.AddData(Direction::kServerToClient, "ret");
  t.AddData(Direction::kServerToClient, "-pw\r\n");
  t.RedactStreams(Secrets());
  ASSERT_EQ(t.entries().size(), 3u);
  EXPECT_EQ(t.entries()[0].data, "535 ***");
  EXPECT_EQ(t.entries()[1].data, "");
  EXPECT_EQ(t.entries()[2].data, "\r\n");
  EXPECT_EQ(t.stored_bytes(), 9u);
}

// Storage stops at every byte of the echoed blob: what is stored of the blob
// is hidden once it is kMinRedactedFragment bytes long.
TEST(RedactStreams, SecretCutByTheStorageCap) {
  const std::string head = "535 AUTH PLAIN ";
  const std::string blob = kBlob;
  for (std::size_t stored = 0; stored <= blob.size(); ++stored) {
    SCOPED_TRACE(stored);
    TranscriptOptions o;
    o.max_stored_bytes = head.size() + stored;
    Transcript t(o);
    for (const Chunk& c : Split(Direction::kServerToClient, head + blob + "\r\n", 3)) {
      t.AddData(c.dir, c.bytes);
    }
    ASSERT_TRUE(t.truncated());
    t.RedactStreams(Secrets());
    const std::string joined = t.SideBytes(Direction::kServerToClient);
    std::string want = head;
    if (stored >= kMinRedactedFragment) {
      want += "***";
    } else {
      want += blob.substr(0, stored);
    }
    EXPECT_EQ(joined, want);
    EXPECT_EQ(t.total_bytes(Direction::kServerToClient), head.size() + blob.size() + 2);
    EXPECT_EQ(t.omitted_bytes(), blob.size() + 2 - stored);
  }
}

TEST(RedactStreams, EventTextsAndTlsFields) {
  Transcript t;
  t.AddNote(std::string("step 3 (expect): fail: got 535 ") + kBlob);
  t.AddNote("quoted: s3cret-\\\\pw");  // not this password's escaped form
  t.AddEvent(EntryKind::kError, std::string("incomplete reply 535 ") + kBlob + "... (600 bytes)");
  t.AddEvent(EntryKind::kError, "incomplete reply 535 AGFsaWNlAH... (600 bytes)");
  t.AddTls({"TLSv1.3", "X", std::string("CN=") + kPassword});
  t.RedactStreams({kBlob, kPassword, "pa\\ss"});
  ASSERT_EQ(t.entries().size(), 5u);
  EXPECT_EQ(t.entries()[0].text, "step 3 (expect): fail: got 535 ***");
  EXPECT_EQ(t.entries()[1].text, "quoted: s3cret-\\\\pw");
  EXPECT_EQ(t.entries()[2].text, "incomplete reply 535 ***... (600 bytes)");
  EXPECT_EQ(t.entries()[3].text, "incomplete reply 535 ***... (600 bytes)");
  EXPECT_EQ(t.entries()[4].tls.peer_subject, "CN=***");
  Transcript escaped;
  escaped.AddNote("quoted: 535 pa\\\\ss");  // Quote's form of "pa\ss"
  escaped.RedactStreams({"pa\\ss"});
  EXPECT_EQ(escaped.entries()[0].text, "quoted: 535 ***");
}

TEST(RedactStreams, NoSecretsLeaveTheTranscriptAlone) {
  Transcript t;
  t.AddData(Direction::kClientToServer, "AUTH PLAIN AGFs");
  const Transcript before = t;
  t.RedactStreams({});
  EXPECT_EQ(t, before);
  t.RedactStreams({""});
  EXPECT_EQ(t, before);
}

}  // namespace
}  // namespace smtp::harness
