#!/usr/bin/env python3
"""End-to-end tests of `smtp-harness parse`: runs the binary, checks its JSON
lines and exit status. Usage: parse_cli_test.py PATH/TO/smtp-harness SOURCE_DIR"""
import json
import subprocess
import sys
import unittest

BIN = sys.argv[1] if len(sys.argv) > 1 else "build/default/app/smtp-harness"
SRC = sys.argv[2] if len(sys.argv) > 2 else "."


def run(args, stdin=b""):
    p = subprocess.run([BIN, "parse", *args], input=stdin, capture_output=True, timeout=30)
    lines = [json.loads(l) for l in p.stdout.decode("utf-8").splitlines() if l.strip()]
    return p.returncode, lines, p.stderr.decode()


class ParseCli(unittest.TestCase):
    def test_rfc5321_d1_client_session_is_accepted(self):
        with open(f"{SRC}/corpus/sessions/rfc5321-d1.client", "rb") as f:
            rc, out, _ = run(["--mode", "command"], f.read())
        self.assertEqual(rc, 0)
        self.assertEqual([o["command"]["verb"] for o in out],
                         ["EHLO", "MAIL", "RCPT", "RCPT", "RCPT", "DATA", "QUIT"])
        self.assertEqual(out[1]["command"]["path"]["local_part"], "Smith")
        self.assertEqual(out[1]["canonical"], "MAIL FROM:<Smith@bar.com>\r\n")

    def test_rfc5321_d1_server_replies(self):
        with open(f"{SRC}/corpus/sessions/rfc5321-d1.server", "rb") as f:
            rc, out, _ = run(["--mode", "reply"], f.read())
        self.assertEqual(rc, 0)
        self.assertEqual([o["reply"]["code"] for o in out],
                         [220, 250, 250, 250, 550, 250, 354, 250, 221])
        self.assertIn("8BITMIME", out[1]["ehlo"]["keywords"])

    def test_data_body_unstuffed(self):
        with open(f"{SRC}/corpus/sessions/rfc5321-d1.data", "rb") as f:
            rc, out, _ = run(["--mode", "data"], f.read())
        self.assertEqual(rc, 0)
        self.assertTrue(out[0]["ended"])
        self.assertEqual(out[0]["body"], "Blah blah blah...\r\n...etc. etc. etc.\r\n")

    def test_strict_rejects_space_after_colon_lenient_lists_it(self):
        rc, out, _ = run(["--line", "MAIL FROM: <a@b.example>"])
        self.assertEqual(rc, 1)
        self.assertFalse(out[0]["ok"])
        self.assertIn("offset", out[0]["error"])
        rc, out, _ = run(["--lenient", "--line", "MAIL FROM: <a@b.example>"])
        self.assertEqual(rc, 0)
        self.assertIn("space_after_colon", out[0]["command"]["deviations"])

    def test_exact_crlf_mode_reports_bare_lf(self):
        rc, out, _ = run(["--crlf", "exact"], b"NOOP\n")
        self.assertEqual(rc, 1)
        self.assertEqual(out[0]["error"]["code"], "bare_lf")

    def test_smuggled_command_after_lenient_end(self):
        payload = b"hello\n.\nMAIL FROM:<evil@x.example>\r\n"
        rc, out, _ = run(["--mode", "data"], payload + b"\r\n.\r\n")
        self.assertTrue(out[0]["ended"])  # strict: ends only at CRLF.CRLF
        self.assertIn("lf_dot_lf", [e["kind"] for e in out[0]["events"]])
        self.assertIn("MAIL FROM", out[0]["body"])
        rc, out, _ = run(["--mode", "data", "--data_end", "bare_lf"], payload)
        self.assertTrue(out[0]["ended"])
        self.assertEqual(out[1]["command"]["verb"], "MAIL")

    def test_reply_error_has_offset(self):
        rc, out, _ = run(["--mode", "reply"], b"250-a\r\n251 b\r\n")
        self.assertEqual(rc, 1)
        self.assertEqual(out[0]["error"]["code"], "inconsistent_code")
        self.assertEqual(out[0]["error"]["offset"], 9)  # first differing digit

    def test_bad_mode_is_usage_error(self):
        rc, _, err = run(["--mode", "nope"])
        self.assertEqual(rc, 2)
        self.assertIn("--mode", err)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
