/* crashy_smtpd: a small listening SMTP server in C built WITHOUT a
 * sanitizer, with three planted aborts, for testing how `smtp-harness fuzz
 * --spawn` tells crashes of one signal apart (crash_backtrace.h: a core
 * file read with gdb, or else the trigger). Test code only: one connection
 * at a time.
 *
 *   crashy_smtpd PORT      listens on 127.0.0.1:PORT until killed
 *
 * PLANTED BUGS (on purpose; the fuzzer must find each as its own finding):
 *   1. HELP with an argument starting with '%': abort() in help_abort.
 *   2. VRFY with an argument starting with '%': abort() in vrfy_abort.
 *   3. NOOP LATER: answered 250 as usual, but once the session is over
 *      (QUIT, or the client's close) the server aborts in die_later,
 *      between sessions: no write or read of the client meets the crash.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "smtpd_common.h"

/* Not inlined: each abort has its own frame, as two bugs in a real server
 * would. */
__attribute__((noinline)) static void help_abort(const char *arg) {
  if (arg[0] == '%') abort(); /* PLANTED BUG 1 */
}

__attribute__((noinline)) static void vrfy_abort(const char *arg) {
  if (arg[0] == '%') abort(); /* PLANTED BUG 2 */
}

__attribute__((noinline)) static void die_later(int armed) {
  if (armed) abort(); /* PLANTED BUG 3 */
}

/* One session; returns whether NOOP LATER armed the late abort. */
static int serve(int fd) {
  struct line_buf in = {.fd = fd, .len = 0};
  int armed = 0, helo = 0;
  say_fd(fd, "220 crashy ESMTP\r\n");
  for (;;) {
    char line[4096]; /* as large as the buffer: never too long */
    if (read_line(&in, line, sizeof line) == 0) return armed;
    const char *sp = strchr(line, ' ');
    const char *arg = sp == NULL ? "" : sp + 1;
    if (verb_is(line, "EHLO") || verb_is(line, "HELO")) {
      helo = 1;
      say_fd(fd, "250 crashy\r\n");
    } else if (verb_is(line, "HELP")) {
      help_abort(arg);
      say_fd(fd, "214 2.0.0 see RFC 5321\r\n");
    } else if (verb_is(line, "VRFY")) {
      vrfy_abort(arg);
      say_fd(fd, "252 2.1.5 cannot verify\r\n");
    } else if (verb_is(line, "NOOP")) {
      if (strcasecmp(arg, "LATER") == 0) armed = 1;
      say_fd(fd, "250 2.0.0 ok\r\n");
    } else if (verb_is(line, "RSET")) {
      say_fd(fd, "250 2.0.0 reset\r\n");
    } else if (verb_is(line, "MAIL") || verb_is(line, "RCPT")) {
      say_fd(fd, helo ? "250 2.1.0 ok\r\n" : "503 5.5.1 EHLO first\r\n");
    } else if (verb_is(line, "QUIT")) {
      say_fd(fd, "221 2.0.0 bye\r\n");
      return armed;
    } else {
      say_fd(fd, "500 5.5.1 unknown command\r\n");
    }
  }
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: crashy_smtpd PORT\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  int s = listen_loopback("crashy_smtpd", argv[1]);
  for (;;) {
    int fd = accept_client(s);
    int armed = serve(fd);
    lingering_close(fd);
    die_later(armed);
  }
}
