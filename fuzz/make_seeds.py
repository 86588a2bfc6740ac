#!/usr/bin/env python3
"""Writes the seed inputs of corpus/fuzz_<target>/ (files named seed-*).

Each fuzz target reads option bits from a fixed header at the front of its
input (see the comment at the top of fuzz/fuzz_<target>.cc); this script
prefixes every readable payload below with the header of one or more option
sets, so the seeds start from strict, lenient and tight-limit modes alike.

Sources: RFC 5321 Appendix D sessions, examples of RFC 1870, 2034, 3030,
3461, 3463, 4954, 6152, 6531; deviations seen from real clients and servers;
SMTP smuggling sequences (SEC Consult 2023, CVE-2023-51764/5/6).

Run from anywhere: python3 fuzz/make_seeds.py. Rewrites only seed-* files;
inputs added by libFuzzer merges and regression reproducers stay.
"""
import os
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

ALL_LENIENT = 0xFFFF  # kAllLeniencies (16 bits)
BARE_LF, BARE_CR, LOOSE_TEXT, TRAILING_WS = 1 << 3, 1 << 4, 1 << 13, 1 << 2


def u16(v):
    return struct.pack("<H", v)


def write(target, name, data):
    d = os.path.join(ROOT, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


# ---- fuzz_command: [leniencies u16][flags: utf8 | limits<<1][limit param] ----
COMMANDS = [
    # RFC 5321 Appendix D.1 - D.4
    (b"EHLO bar.com\r\n", "d1-ehlo"),
    (b"MAIL FROM:<Smith@bar.com>\r\n", "d1-mail"),
    (b"RCPT TO:<Jones@foo.com>\r\n", "d1-rcpt"),
    (b"DATA\r\n", "d1-data"),
    (b"QUIT\r\n", "d1-quit"),
    (b"MAIL FROM:<JQP@bar.com>\r\n", "d2-mail"),
    (b"RCPT TO:<Jones@XYZ.COM>\r\n", "d2-rcpt"),
    (b"VRFY Crispin\r\n", "d3-vrfy"),
    (b"MAIL FROM:<@foo.com:JQP@bar.com>\r\n", "d4-source-route"),
    (b"RCPT TO:<@foo.com,@bar.org:Jones@XYZ.COM>\r\n", "source-route-2"),
    # Other verbs and RFC examples
    (b"HELO relay.example.org\r\n", "helo"),
    (b"EHLO [192.0.2.1]\r\n", "ehlo-ipv4"),
    (b"EHLO [IPv6:2001:db8::1]\r\n", "ehlo-ipv6"),
    (b"EHLO [IPv6:::ffff:192.0.2.1]\r\n", "ehlo-ipv6v4"),
    (b"LHLO foo.edu\r\n", "rfc2033-lhlo"),
    (b"RSET\r\n", "rset"),
    (b"NOOP\r\n", "noop"),
    (b"NOOP \"hello there\"\r\n", "noop-quoted"),
    (b"HELP\r\n", "help"),
    (b"HELP MAIL\r\n", "help-arg"),
    (b"EXPN Example-People\r\n", "expn"),
    (b"VRFY \"Smith, John\" SMTPUTF8\r\n", "rfc6531-vrfy"),
    (b"STARTTLS\r\n", "rfc3207-starttls"),
    (b"AUTH PLAIN dGVzdAB0ZXN0ADEyMzQ=\r\n", "rfc4954-auth-plain"),
    (b"AUTH LOGIN\r\n", "auth-login"),
    (b"AUTH PLAIN =\r\n", "auth-empty-response"),
    (b"AUTH CRAM-MD5\r\n", "auth-cram"),
    (b"BDAT 86 LAST\r\n", "rfc3030-bdat-last"),
    (b"BDAT 0 LAST\r\n", "bdat-zero"),
    (b"BDAT 18446744073709551615\r\n", "bdat-max"),
    (b"BDAT 18446744073709551616\r\n", "bdat-overflow"),
    (b"ETRN #queue1\r\n", "rfc1985-etrn-queue"),
    (b"ETRN @example.com\r\n", "rfc1985-etrn-at"),
    (b"MAIL FROM:<> SIZE=1000 BODY=8BITMIME\r\n", "rfc1870-size"),
    (b"MAIL FROM:<ned@ymir.claremont.edu> SIZE=500000\r\n", "rfc1870-example"),
    (b"MAIL FROM:<Alice@Example.ORG> RET=HDRS ENVID=QQ314159\r\n", "rfc3461-mail"),
    (b"RCPT TO:<Bob@Example.COM> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Bob@Example.COM\r\n",
     "rfc3461-rcpt"),
    (b"MAIL FROM:<e=mc2@example.com> AUTH=e+3Dmc2@example.com\r\n", "rfc4954-mail-auth"),
    (b"MAIL FROM:<a@b> AUTH=<>\r\n", "mail-auth-null"),
    (b"MAIL FROM:<a@b> BODY=BINARYMIME\r\n", "rfc3030-binarymime"),
    (b"RCPT TO:<Postmaster>\r\n", "postmaster"),
    (b"RCPT TO:<postmaster@example.net>\r\n", "postmaster-domain"),
    (b"MAIL FROM:<\"john doe\"@example.com>\r\n", "quoted-local"),
    (b"MAIL FROM:<\"a\\\"b\"@[192.0.2.1]>\r\n", "quoted-pair-literal"),
    (b"RCPT TO:<user@[IPv6:2001:db8::1]>\r\n", "rcpt-ipv6"),
    (b"RCPT TO:<user@[x-tag:some-thing]>\r\n", "rcpt-general-literal"),
    ("MAIL FROM:<用户@例子.广告> SMTPUTF8\r\n".encode(), "rfc6531-mail-utf8"),
    ("RCPT TO:<δοκιμή@παράδειγμα.δοκιμή>\r\n".encode(), "rfc6531-rcpt-utf8"),
    (b"XCLIENT ADDR=192.0.2.1 NAME=spike.porcupine.org\r\n", "unknown-xclient"),
    (b"AUTH PLAIN " + b"QUFB" * 3000 + b"\r\n", "auth-long"),
    # Real-world deviations (need leniencies)
    (b"MAIL FROM: <a@b.example>\r\n", "dev-space-after-colon"),
    (b"MAIL FROM:a@b.example\r\n", "dev-no-brackets"),
    (b"mail from:<a@b.example>  SIZE=5 \r\n", "dev-extra-ws"),
    (b"MAIL FROM :<a@b.example>\r\n", "dev-space-before-colon"),
    (b"EHLO\r\n", "dev-empty-ehlo"),
    (b"EHLO my_host.example.\r\n", "dev-underscore-trailing-dot"),
    (b"RCPT TO:<a..b.@c.example>\r\n", "dev-loose-dots"),
    (b"NOOP\n", "dev-bare-lf"),
    (b"NOOP\r", "dev-bare-cr"),
    (b"X-FOO bar\r\n", "dev-nonalpha-verb"),
    (b"HELO\tfoo.example\r\n", "dev-htab"),
    ("MAIL FROM:<josé@example.com>\r\n".encode(), "dev-utf8-no-smtputf8"),
    # Smuggling and hostile framing
    (b"MAIL FROM:<a@b>\rRCPT TO:<c@d>\r\n", "smuggle-bare-cr-inside"),
    (b"RSET\nDATA\r\n", "smuggle-bare-lf-inside"),
    (b"NOOP\x00\r\n", "nul"),
    (b"\r\n", "empty-line"),
    (b"MAIL FROM:<" + b"a" * 70 + b"@example.com>\r\n", "local-part-too-long"),
    (b"MAIL FROM:<a@" + b"b" * 260 + b">\r\n", "domain-too-long"),
    (b"NOOP " + b"x" * 600 + b"\r\n", "line-too-long"),
]

# ---- fuzz_line_reader: [flags: lf | cr<<1 | max_line<<2][small][seed u16] ----
SESSION = (b"EHLO bar.com\r\nMAIL FROM:<Smith@bar.com>\r\nRCPT TO:<Jones@foo.com>\r\n"
           b"DATA\r\n")
LINE_STREAMS = [
    (SESSION + b"QUIT\r\n", "d1-session"),
    (b"EHLO a\nMAIL FROM:<a@b>\nRCPT TO:<c@d>\n", "bare-lf-lines"),
    (b"EHLO a\rMAIL FROM:<a@b>\rRCPT TO:<c@d>\r\n", "bare-cr-lines"),
    (b"NOOP\r\r\nNOOP\n\rNOOP\r", "mixed-terminators"),
    (b"NOOP \x00\xff\xfe\r\n", "nul-8bit"),
    (b"x" * 700 + b"\r\nNOOP\r\n", "too-long-then-ok"),
    (b"A" * 511 + b"\r\n", "exactly-512"),
    (b"\r\n.\r\n\n.\n\r.\r\n", "smuggling-sequences"),
]

# ---- fuzz_path: [leniencies u16][flags: utf8 | entry<<1 | limits<<4 | base<<6][param]
PATHS = [  # (payload, entry, name)
    (b"<>", 0, "null"),
    (b"<Smith@bar.com>", 0, "d1-reverse"),
    (b"<@foo.com,@bar.org:JQP@bar.com>", 0, "source-route"),
    (b"<Postmaster>", 1, "postmaster"),
    (b"<POSTMASTER@example.com>", 1, "postmaster-domain"),
    (b"<Jones@XYZ.COM>", 1, "forward"),
    (b"<\"john q. public\"@example.com>", 1, "quoted"),
    (b"<\"a\\\\b\\\"c\"@example.com>", 1, "quoted-pairs"),
    (b"<user@[192.0.2.1]>", 1, "ipv4-literal"),
    (b"<user@[IPv6:2001:db8:0:0:0:0:0:1]>", 1, "ipv6-full"),
    (b"<user@[IPv6:::ffff:192.0.2.1]>", 1, "ipv6v4"),
    (b"<user@[x400:c=us;a=;p=x]>", 1, "general-literal"),
    ("<用户@例子.广告>".encode(), 0, "utf8"),
    (b"a@b.example", 2, "mailbox"),
    (b"\"a b\"@[192.0.2.1]", 2, "mailbox-quoted-literal"),
    (b"mail.example.com", 3, "domain"),
    (b"my_host.example.", 3, "domain-underscore-dot"),
    ("bücher.example".encode(), 3, "domain-ulabel"),
    (b"[IPv6:::1]", 4, "literal-ipv6-loopback"),
    (b"[IPv6:2001:db8::192.0.2.1]", 4, "literal-ipv6v4"),
    (b"[300.1.1.1]", 4, "literal-bad-ipv4"),
    (b"[IPv6:1:2:3:4:5:6:7:8:9]", 4, "literal-bad-ipv6"),
    (b"a..b@c", 2, "dev-loose-dots"),
    (b"Smith@bar.com", 0, "dev-no-brackets"),
    (b"<" + b"a" * 65 + b"@b>", 0, "local-part-too-long"),
]

# ---- fuzz_esmtp_params: [leniencies u16][flags: rcpt | utf8<<1 | limits<<2][param]
PARAMS = [  # (payload, rcpt, name)
    (b"SIZE=1000 BODY=8BITMIME", 0, "size-body"),
    (b"SMTPUTF8", 0, "smtputf8"),
    (b"RET=FULL ENVID=QQ314159", 0, "ret-envid"),
    (b"AUTH=<>", 0, "auth-null"),
    (b"AUTH=joe+40example.com", 0, "auth-xtext"),
    (b"BODY=BINARYMIME SIZE=007", 0, "binarymime-leading-zeros"),
    (b"SIZE=99999999999999999999999", 0, "size-overflow"),
    (b"X-UNKNOWN=1 FOO", 0, "unknown"),
    ("ENVID=ünï SMTPUTF8".encode(), 0, "utf8-value"),
    (b"NOTIFY=NEVER", 1, "notify-never"),
    (b"NOTIFY=SUCCESS,FAILURE,DELAY ORCPT=rfc822;Bob+40example.com", 1, "notify-orcpt"),
    (b"NOTIFY=NEVER,SUCCESS", 1, "notify-bad"),
    (b"ORCPT=utf-8;b\\x{E4}r@example.com", 1, "orcpt-utf8-addr"),
    (b"SIZE=5  BODY=7BIT ", 0, "dev-extra-trailing-ws"),
    (b"SIZE=1\tBODY=7BIT", 0, "dev-htab"),
    (b" ".join(b"P%d=%d" % (i, i) for i in range(20)), 0, "too-many"),
]

# ---- fuzz_reply: [leniencies u16][limits][param][seed u16] ----
REPLIES = [
    (b"220 foo.com Simple Mail Transfer Service Ready\r\n"
     b"250-foo.com greets bar.com\r\n250-8BITMIME\r\n250-SIZE\r\n250-DSN\r\n250 HELP\r\n"
     b"250 OK\r\n250 OK\r\n550 No such user here\r\n250 OK\r\n"
     b"354 Start mail input; end with <CRLF>.<CRLF>\r\n250 OK\r\n"
     b"221 foo.com Service closing transmission channel\r\n", "d1-server"),
    (b"250-mx.example.com Hello [192.0.2.1]\r\n250-SIZE 52428800\r\n250-8BITMIME\r\n"
     b"250-PIPELINING\r\n250-AUTH LOGIN PLAIN XOAUTH2\r\n250-AUTH=LOGIN PLAIN\r\n"
     b"250-CHUNKING\r\n250-BINARYMIME\r\n250-SMTPUTF8\r\n250-DSN\r\n250-STARTTLS\r\n"
     b"250-ENHANCEDSTATUSCODES\r\n250-VRFY\r\n250-ETRN\r\n250 XCLIENT NAME ADDR\r\n", "ehlo-full"),
    (b"250-a.example\r\n250-SIZE abc\r\n250-PIPELINING x\r\n250-AUTH\r\n250-bad_kw\r\n"
     b"250-SIZE 10\r\n250 8bitmime\r\n", "ehlo-flawed"),
    (b"550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown\r\n", "rfc3463"),
    (b"250 2.0.0 Ok: queued as 12345\r\n", "rfc2034-queued"),
    (b"451 4.7.1 Greylisted, try again\r\n421 4.3.2 Shutting down\r\n", "temp"),
    (b"250 2.01.0 leading zero\r\n250 2.0.0123 four digits\r\n250 5.1.1 mismatched\r\n",
     "enhanced-edge"),
    (b"250 ok\r\n250 ok\r\n354 go ahead\r\n", "pipelined"),
    (b"250\r\n250-\r\n250 \r\n", "empty-texts"),
    (b"220-a\r\n250 b\r\n", "inconsistent-code"),
    # RFC 4954 §4 continue-req: "334" SP [base64] CRLF; the last one lacks the SP.
    (b"334 \r\n334 VXNlcm5hbWU6\r\n235 2.7.0 Authentication successful\r\n334\r\n",
     "auth-challenges"),
    (b"250 ok\n250-a\n250 b\n", "dev-bare-lf"),
    (b"250 ok\r250-a\r250 b\r", "dev-bare-cr"),
    ("550 Überlast \x01\x7f\r\n".encode(), "dev-loose-text"),
    (b"600 bad\r\n", "bad-code"),
    (b"250-" + b"x" * 600 + b"\r\n250 y\r\n", "line-too-long"),
    (b"".join(b"250-line %d\r\n" % i for i in range(300)) + b"250 end\r\n", "too-many-lines"),
]

# ---- fuzz_data: [flags: mode | max_line<<3][small][seed u16][bdat u32] ----
BODIES = [
    (b"Blah blah blah...\r\n....etc. etc. etc.\r\n.\r\n", "d1-body"),
    (b".\r\n", "empty-body"),
    (b"..\r\n.\r\nQUIT\r\n", "stuffed-dot-then-end"),
    (b"Subject: x\r\n\r\nhello\r\n.\r\nMAIL FROM:<a@b>\r\n", "pipelined-after"),
    (b"a\r\n\n.\n\r\nMAIL FROM:<x@y>\r\n", "smuggle-lf-dot-lf"),
    (b"a\n.\r\nRSET\r\n", "smuggle-lf-dot-crlf"),
    (b"a\r\n.\n", "smuggle-crlf-dot-lf"),
    (b"a\r\n.\r\r\nQUIT\r\n", "smuggle-dot-cr-cr-lf"),
    (b"a\r.\r\nQUIT\r\n", "smuggle-cr-dot-crlf"),
    (b"a\r.\rQUIT\r\n", "smuggle-cr-dot-cr"),
    (b"\x00.\r\n.\x00\r\n.\r\n", "nul-dot"),
    (b"x" * 1200 + b"\r\n.\r\n", "line-too-long"),
    (b"bin\x00\xff\r\n\r\r\n\n\r.\r\n", "binary-junk"),
]


def main():
    for payload, name in COMMANDS:
        for tag, hdr in (("strict", u16(0) + b"\x00\x00"),
                         ("lenient", u16(ALL_LENIENT) + b"\x00\x00"),
                         ("utf8", u16(0) + b"\x01\x00"),
                         ("tight", u16(ALL_LENIENT) + b"\x02\x20")):
            write("fuzz_command", f"{name}.{tag}", hdr + payload)
    for payload, name in LINE_STREAMS:
        for tag, hdr in (("strict", b"\x00\x00"), ("lf", b"\x01\x00"), ("cr", b"\x02\x00"),
                         ("lf-cr-1000", b"\x07\x00"), ("small", b"\x0f\x10")):
            write("fuzz_line_reader", f"{name}.{tag}", hdr + b"\x00\x00" + payload)
            write("fuzz_line_reader", f"{name}.{tag}.split7", hdr + b"\x07\x00" + payload)
    for payload, entry, name in PATHS:
        for tag, len_, utf8 in (("strict", 0, 0), ("lenient", ALL_LENIENT, 0), ("utf8", 0, 1)):
            flags = utf8 | (entry << 1)
            write("fuzz_path", f"{name}.{tag}", u16(len_) + bytes([flags, 0]) + payload)
    for payload, rcpt, name in PARAMS:
        for tag, len_, utf8 in (("strict", 0, 0), ("lenient", ALL_LENIENT, 0), ("utf8", 0, 2)):
            write("fuzz_esmtp_params", f"{name}.{tag}",
                  u16(len_) + bytes([rcpt | utf8, 0]) + payload)
    for payload, name in REPLIES:
        for tag, len_, lim in (("strict", 0, b"\x00\x00"), ("lenient", ALL_LENIENT, b"\x00\x00"),
                               ("tight", BARE_LF | BARE_CR, b"\x01\x40")):
            write("fuzz_reply", f"{name}.{tag}", u16(len_) + lim + b"\x05\x00" + payload)
    modes = ["strict", "lf-lines", "bare-lf", "strip-cr", "any"]
    for payload, name in BODIES:
        for m, mode in enumerate(modes):
            write("fuzz_data", f"{name}.{mode}",
                  bytes([m, 0]) + b"\x03\x00" + struct.pack("<I", 20) + payload)
        write("fuzz_data", f"{name}.small-lines",
              bytes([0x08, 8]) + b"\x00\x00" + struct.pack("<I", 0x80000000) + payload)
    return 0


if __name__ == "__main__":
    sys.exit(main())
