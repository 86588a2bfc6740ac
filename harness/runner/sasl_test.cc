#include "harness/runner/sasl.h"

#include <string>

#include <gtest/gtest.h>

namespace smtp::runner {
namespace {

TEST(Base64, RoundTripAndRfc4648Vectors) {
  // RFC 4648 §10 test vectors.
  const struct {
    std::string plain, encoded;
  } kCases[] = {{"", ""},
                {"f", "Zg=="},
                {"fo", "Zm8="},
                {"foo", "Zm9v"},
                {"foob", "Zm9vYg=="},
                {"fooba", "Zm9vYmE="},
                {"foobar", "Zm9vYmFy"}};
  for (const auto& c : kCases) {
    EXPECT_EQ(Base64Encode(c.plain), c.encoded) << c.plain;
    EXPECT_EQ(Base64Decode(c.encoded), c.plain) << c.encoded;
  }
  EXPECT_EQ(Base64Decode("!!!"), std::nullopt);
}

TEST(Sasl, PlainIsNulUserNulPassword) {
  // RFC 4616 §4 example: authcid "tim", passwd "tanstaaftanstaaf".
  EXPECT_EQ(SaslPlain("tim", "tanstaaftanstaaf"),
            Base64Encode(std::string("\0tim\0tanstaaftanstaaf", 21)));
  EXPECT_EQ(*Base64Decode(SaslPlain("a", "b")), std::string("\0a\0b", 4));
}

TEST(Sasl, CramMd5Rfc2195Example) {
  // RFC 2195 §2: challenge <1896.697170952@postoffice.reston.mci.net>,
  // user tim, secret tanstaaftanstaaf.
  const std::string challenge = "<1896.697170952@postoffice.reston.mci.net>";
  EXPECT_EQ(HmacMd5Hex("tanstaaftanstaaf", challenge), "b913a602c7eda7a495b4e6e7334d3890");
  EXPECT_EQ(SaslCramMd5("tim", "tanstaaftanstaaf", challenge),
            "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw");
}

TEST(Sasl, HmacMd5Rfc2104Vector) {
  // RFC 2104 Appendix (test case 2): key "Jefe".
  EXPECT_EQ(HmacMd5Hex("Jefe", "what do ya want for nothing?"), "750c783e6ab0b503eaa86e310a5db738");
}

TEST(Sasl, Xoauth2Layout) {
  EXPECT_EQ(*Base64Decode(SaslXoauth2("someuser@example.com",
                                      "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg")),
            "user=someuser@example.com\x01"
            "auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\x01\x01");
}

}  // namespace
}  // namespace smtp::runner
