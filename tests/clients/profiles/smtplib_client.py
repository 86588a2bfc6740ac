#!/usr/bin/env python3
"""Sends one message with Python's smtplib: the client of smtplib.json.

  smtplib_client.py MODE HOST PORT FROM TO MESSAGE_FILE [USER PASSWORD CAFILE]

MODE: plain, starttls (STARTTLS when offered, plaintext after a refusal),
require_tls (no STARTTLS, or a failed one: exit 3 before MAIL) or auth
(require_tls, then AUTH with USER/PASSWORD). The server certificate is
verified against CAFILE when given. Exit 0 when the message was accepted,
1 on an SMTP error, 3 when TLS was required and not had. Every socket
operation times out after 5 s (smtplib's timeout).
"""
import smtplib
import ssl
import sys

TIMEOUT_S = 5


def main(argv):
    mode, host, port, sender, rcpt, message = argv[1:7]
    user, password, cafile = (argv[7:10] + [None, None, None])[:3]
    with open(message, "rb") as f:
        body = f.read()
    context = ssl.create_default_context(cafile=cafile) if cafile else ssl.create_default_context()
    if not cafile:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    try:
        with smtplib.SMTP(host, int(port), timeout=TIMEOUT_S) as smtp:
            smtp.ehlo_or_helo_if_needed()
            if mode in ("starttls", "require_tls", "auth"):
                if smtp.has_extn("starttls"):
                    try:
                        smtp.starttls(context=context)
                        smtp.ehlo()
                    except smtplib.SMTPResponseException:
                        if mode != "starttls":
                            raise
                elif mode != "starttls":
                    print("the server offers no STARTTLS", file=sys.stderr)
                    return 3
            if mode in ("require_tls", "auth") and not isinstance(smtp.sock, ssl.SSLSocket):
                print("no TLS", file=sys.stderr)
                return 3
            if mode == "auth":
                smtp.login(user, password)
            refused = smtp.sendmail(sender, [rcpt], body)
            if refused:
                print(f"refused: {refused}", file=sys.stderr)
                return 1
    except (smtplib.SMTPException, OSError) as e:
        print(f"smtplib: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
