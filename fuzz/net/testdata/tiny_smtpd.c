/* tiny_smtpd: a small listening SMTP server in C, with planted bugs, for
 * testing `smtp-harness fuzz --spawn` against a foreign server built with
 * AFL++'s compiler (afl-cc): its edge coverage reaches the fuzzer through
 * the AFL shared-memory convention (__AFL_SHM_ID), its crashes and
 * sanitizer reports through the process itself. Test code only: it handles
 * one connection at a time and trusts nobody but is no mail server.
 *
 *   tiny_smtpd PORT        listens on 127.0.0.1:PORT until killed
 *   tiny_smtpd -           one session on stdin/stdout (an exec: target)
 *
 * PLANTED BUGS (on purpose; the fuzzer must find them):
 *   1. HELP with an argument that starts with '%': abort() (a crash).
 *   2. After MAIL FROM with BODY=8BITMIME, a RCPT TO path longer than 64
 *      bytes is copied into a 64-byte heap buffer (with AddressSanitizer:
 *      a heap-buffer-overflow report on stderr).
 * Not planted, found by the fuzzer and kept as they are (real bug classes):
 *   3. A bare LF ends a line, so "<LF>.<CR><LF>" ends DATA early and the
 *      client's own terminator is read as a command (SMTP smuggling: the
 *      desync oracle).
 *   4. A NUL ends a command ("DATA<NUL>x" is DATA): the desync oracle sees
 *      a 354 to a command that cannot get one.
 */
#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "smtpd_common.h"

enum { kMaxLine = 1000, kMaxRcpts = 5 };

struct conn {
  struct line_buf in;
  int out;
  int helo, ehlo, mail, rcpts, body8, size_given, errors;
  char *last_rcpt; /* kept: the copy below is not optimized away */
};

static void say(struct conn *c, const char *text) { say_fd(c->out, text); }

/* "<path>" at `p`: its length, or -1. */
static int path_len(const char *p) {
  if (*p != '<') return -1;
  const char *end = strchr(p, '>');
  return end == NULL ? -1 : (int)(end - p - 1);
}

static void mail_from(struct conn *c, const char *arg) {
  if (!c->helo) return say(c, "503 5.5.1 EHLO first\r\n");
  if (c->mail) return say(c, "503 5.5.1 nested MAIL\r\n");
  if (strncasecmp(arg, "FROM:", 5) != 0) return say(c, "501 5.5.4 syntax: MAIL FROM:<path>\r\n");
  const char *p = arg + 5;
  int n = path_len(p);
  if (n < 0) return say(c, "501 5.1.7 bad sender path\r\n");
  p += n + 2;
  c->body8 = 0;
  c->size_given = 0;
  while (*p == ' ') {
    ++p;
    if (!c->ehlo) return say(c, "555 5.5.4 parameters need EHLO\r\n");
    if (strncasecmp(p, "BODY=", 5) == 0) {
      if (strncasecmp(p + 5, "8BITMIME", 8) == 0) {
        c->body8 = 1;
      } else if (strncasecmp(p + 5, "7BIT", 4) != 0) {
        return say(c, "501 5.5.4 bad BODY\r\n");
      }
    } else if (strncasecmp(p, "SIZE=", 5) == 0) {
      char *end;
      unsigned long size = strtoul(p + 5, &end, 10);
      if (end == p + 5) return say(c, "501 5.5.4 bad SIZE\r\n");
      if (size > 1000000) return say(c, "552 5.3.4 message too big\r\n");
      c->size_given = 1;
    } else {
      return say(c, "555 5.5.4 unknown parameter\r\n");
    }
    while (*p != '\0' && *p != ' ') ++p;
  }
  c->mail = 1;
  c->rcpts = 0;
  say(c, "250 2.1.0 sender ok\r\n");
}

static void rcpt_to(struct conn *c, const char *arg) {
  if (!c->mail) return say(c, "503 5.5.1 MAIL first\r\n");
  if (strncasecmp(arg, "TO:", 3) != 0) return say(c, "501 5.5.4 syntax: RCPT TO:<path>\r\n");
  int n = path_len(arg + 3);
  if (n < 0) return say(c, "501 5.1.3 bad recipient path\r\n");
  if (n == 0) return say(c, "553 5.1.3 empty recipient\r\n");
  if (c->rcpts >= kMaxRcpts) return say(c, "452 4.5.3 too many recipients\r\n");
  if (c->body8) {
    char *copy = malloc(64);
    memcpy(copy, arg + 4, (size_t)n); /* PLANTED BUG 2: no bound */
    copy[n] = '\0';
    free(c->last_rcpt);
    c->last_rcpt = copy;
  }
  ++c->rcpts;
  say(c, "250 2.1.5 recipient ok\r\n");
}

static void data(struct conn *c) {
  if (c->rcpts == 0) return say(c, c->mail ? "554 5.5.1 no valid recipients\r\n"
                                           : "503 5.5.1 MAIL first\r\n");
  say(c, "354 end with <CRLF>.<CRLF>\r\n");
  char line[kMaxLine + 1];
  size_t lines = 0;
  for (;;) {
    int r = read_line(&c->in, line, sizeof line);
    if (r == 0) return;
    if (r > 0 && strcmp(line, ".") == 0) break;
    ++lines;
  }
  c->mail = 0;
  c->rcpts = 0;
  say(c, lines > 0 ? "250 2.0.0 queued\r\n" : "250 2.0.0 queued (empty)\r\n");
}

static void serve(int in, int out) {
  struct conn c;
  memset(&c, 0, sizeof c);
  c.in.fd = in;
  c.out = out;
  char line[kMaxLine + 1];
  say(&c, "220 tiny ESMTP\r\n");
  for (;;) {
    int r = read_line(&c.in, line, sizeof line);
    if (r == 0) break;
    if (r < 0) {
      say(&c, "500 5.5.2 line too long\r\n");
      continue;
    }
    const char *arg = strchr(line, ' ');
    arg = arg == NULL ? "" : arg + 1;
    if (verb_is(line, "EHLO")) {
      if (*arg == '\0') {
        say(&c, "501 5.5.4 EHLO needs a domain\r\n");
        continue;
      }
      c.helo = c.ehlo = 1;
      c.mail = c.rcpts = 0;
      say(&c, "250-tiny\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 1000000\r\n");
    } else if (verb_is(line, "HELO")) {
      if (*arg == '\0') {
        say(&c, "501 5.5.4 HELO needs a domain\r\n");
        continue;
      }
      c.helo = 1;
      c.ehlo = c.mail = c.rcpts = 0;
      say(&c, "250 tiny\r\n");
    } else if (verb_is(line, "MAIL")) {
      mail_from(&c, arg);
    } else if (verb_is(line, "RCPT")) {
      rcpt_to(&c, arg);
    } else if (verb_is(line, "DATA")) {
      if (*arg != '\0') {
        say(&c, "501 5.5.4 DATA takes no argument\r\n");
      } else {
        data(&c);
      }
    } else if (verb_is(line, "RSET")) {
      c.mail = c.rcpts = 0;
      say(&c, "250 2.0.0 reset\r\n");
    } else if (verb_is(line, "NOOP")) {
      say(&c, "250 2.0.0 ok\r\n");
    } else if (verb_is(line, "VRFY")) {
      say(&c, *arg == '\0' ? "501 5.5.4 VRFY needs an argument\r\n"
                           : "252 2.1.5 cannot verify\r\n");
    } else if (verb_is(line, "HELP")) {
      if (arg[0] == '%') abort(); /* PLANTED BUG 1 */
      say(&c, "214 2.0.0 see RFC 5321\r\n");
    } else if (verb_is(line, "QUIT")) {
      say(&c, "221 2.0.0 bye\r\n");
      break;
    } else {
      if (++c.errors > 10) {
        say(&c, "421 4.7.0 too many errors\r\n");
        break;
      }
      say(&c, "500 5.5.1 unknown command\r\n");
    }
  }
  free(c.last_rcpt);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: tiny_smtpd PORT | -\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  if (strcmp(argv[1], "-") == 0) {
    serve(0, 1);
    return 0;
  }
  int s = listen_loopback("tiny_smtpd", argv[1]);
  for (;;) {
    int fd = accept_client(s);
    serve(fd, fd);
    lingering_close(fd);
  }
}
