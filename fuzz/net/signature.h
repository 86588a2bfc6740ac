// What makes two findings (or two defences) one cause: a server reply with
// its variable parts masked. A server the fuzzer does not start says why it
// refused, closed or broke the grammar only through its replies, so the
// normalized reply is the best name of a cause from outside: the same
// refusal reached by a hundred routes (verbs, steps before it) is one
// signature, and the route is an attribute of the finding, not its
// identity.
#ifndef SMTP_FUZZ_NET_SIGNATURE_H_
#define SMTP_FUZZ_NET_SIGNATURE_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace smtp::fuzz {

// A reply's text with its variable parts masked: text in quotes or angle,
// square or round brackets (echoed input, addresses, hosts) becomes `"*"`,
// `<*>`, `[*]`, `(*)`; a word with a digit, '@', '=', '/', '[' or an inner '.'
// or ':' (ids, numbers, hosts, parameters) becomes `#`, except a leading RFC 3463
// enhanced code, kept; control and 8-bit octets become `?` (a run of them
// one), a run of spaces one space. Bounded to 120 characters. Stable: equal
// texts give equal results.
std::string NormalizeReplyText(std::string_view text);

// "502-5.5.1-too-many-unrecognized-commands-goodbye": a file- and
// bucket-safe name of the normalized reply (lower case, [a-z0-9.#?*-],
// at most 80 characters). `code` 0: the text alone.
std::string ReplySignature(std::uint16_t code, std::string_view text);

}  // namespace smtp::fuzz

#endif  // SMTP_FUZZ_NET_SIGNATURE_H_
