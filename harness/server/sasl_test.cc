#include "harness/server/sasl.h"

#include <gtest/gtest.h>

namespace smtp::server {
namespace {

// RFC 4648 §10 test vectors.
struct B64Case {
  std::string plain;
  std::string encoded;
};
const B64Case kVectors[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
    {std::string("\0user\0pass", 10), "AHVzZXIAcGFzcw=="},
    {"\xff\xfe\xfd", "//79"},
};

TEST(Base64Test, RoundTripsRfc4648Vectors) {
  for (const B64Case& c : kVectors) {
    EXPECT_EQ(EncodeBase64(c.plain), c.encoded);
    const std::optional<std::string> d = DecodeBase64(c.encoded);
    ASSERT_TRUE(d.has_value()) << c.encoded;
    EXPECT_EQ(*d, c.plain);
  }
}

TEST(Base64Test, RejectsNonCanonical) {
  for (const char* bad : {"Zg", "Zg=", "Zg===", "Z===", "Zh==",  // pad bits set
                          "Zm9=", "Zm8=Zm8=", "Zm 9v", "Zm9v\r\n", "*", "=Zm9", "Zm=v"}) {
    EXPECT_FALSE(DecodeBase64(bad).has_value()) << bad;
  }
}

TEST(PlainTest, ParsesMessage) {
  auto m = ParsePlainMessage(std::string("admin\0user\0pw", 13));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->authzid, "admin");
  EXPECT_EQ(m->authcid, "user");
  EXPECT_EQ(m->passwd, "pw");
  m = ParsePlainMessage(std::string("\0user\0pw", 8));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->authzid, "");
  for (const std::string& bad : {std::string("user\0pw", 7), std::string("\0\0pw", 4),
                                 std::string("\0user\0", 6), std::string("\0a\0b\0c", 6)}) {
    EXPECT_FALSE(ParsePlainMessage(bad).has_value());
  }
}

TEST(LowerHexTest, Octets) {
  EXPECT_EQ(LowerHex(""), "");
  EXPECT_EQ(LowerHex(std::string("\x00\x01\xab\xff", 4)), "0001abff");
}

// RFC 2195 §2 example.
TEST(CramMd5Test, Rfc2195Example) {
  EXPECT_EQ(CramMd5Digest("tanstaaftanstaaf", "<1896.697170952@postoffice.reston.mci.net>"),
            "b913a602c7eda7a495b4e6e7334d3890");
}

}  // namespace
}  // namespace smtp::server
