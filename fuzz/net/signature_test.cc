#include "fuzz/net/signature.h"

#include <gtest/gtest.h>

namespace smtp::fuzz {
namespace {

TEST(NormalizeReplyText, MasksEchoedInputIdsAndNumbers) {
  // aiosmtpd echoes the command; the echo is masked, so every unknown
  // command is one refusal.
  EXPECT_EQ(NormalizeReplyText("Error: command \"XYZZY\" not recognized"),
            NormalizeReplyText("Error: command \"HELP\x01\" not recognized"));
  EXPECT_EQ(NormalizeReplyText("Error: command \"X\" not recognized"),
            "Error: command \"*\" not recognized");
  EXPECT_EQ(NormalizeReplyText("5.1.0 <a@b.example>: Sender address rejected"),
            "5.1.0 <*>: Sender address rejected");
  EXPECT_EQ(NormalizeReplyText("4.7.0 mail.example[127.0.0.1]: Error: too many errors"),
            "4.7.0 # Error: too many errors");
  EXPECT_EQ(NormalizeReplyText("2.0.0 Ok: queued as 4Q1xYz3kLmz"), "2.0.0 Ok: queued as #");
  EXPECT_EQ(NormalizeReplyText("Message size exceeds 10240000 bytes"),
            "Message size exceeds # bytes");
  EXPECT_EQ(NormalizeReplyText("Unsupported option: \x17"), "Unsupported option: ?");
  EXPECT_EQ(NormalizeReplyText("Unsupported option: FOO=bar"), "Unsupported option: #");
  EXPECT_EQ(NormalizeReplyText("  spaced   out  "), "spaced out");
  EXPECT_EQ(NormalizeReplyText("don't"), "don't");
}

TEST(NormalizeReplyText, DifferentCausesStayApart) {
  EXPECT_NE(NormalizeReplyText("5.5.1 Too many unrecognized commands, goodbye."),
            NormalizeReplyText("5.5.2 Error: command not recognized"));
  EXPECT_NE(ReplySignature(500, "Error: bad syntax"), ReplySignature(501, "Error: bad syntax"));
}

TEST(NormalizeReplyText, IsBounded) {
  EXPECT_LE(NormalizeReplyText(std::string(10000, 'a')).size(), 120u);
  EXPECT_LE(ReplySignature(500, std::string(10000, 'a')).size(), 80u);
}

TEST(ReplySignature, IsASafeName) {
  EXPECT_EQ(ReplySignature(502, "5.5.1 Too many unrecognized commands, goodbye."),
            "502-5.5.1-too-many-unrecognized-commands-goodbye");
  EXPECT_EQ(ReplySignature(421, "4.7.0 host[1.2.3.4]: Error: too many errors"),
            "421-4.7.0-#-error-too-many-errors");
  for (const char c : ReplySignature(500, "a/b\\c <x> \"y\" \x01\xff")) {
    EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '#' ||
                c == '?' || c == '*')
        << c;
  }
  EXPECT_EQ(ReplySignature(0, ""), "none");
}

}  // namespace
}  // namespace smtp::fuzz
