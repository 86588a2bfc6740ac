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
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static void say(int fd, const char *text) {
  size_t n = strlen(text);
  while (n > 0) {
    ssize_t w = write(fd, text, n);
    if (w <= 0) return;
    text += w;
    n -= (size_t)w;
  }
}

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

static int verb_is(const char *line, const char *verb) {
  size_t n = strlen(verb);
  return strncasecmp(line, verb, n) == 0 && (line[n] == '\0' || line[n] == ' ');
}

/* One session; returns whether NOOP LATER armed the late abort. */
static int serve(int fd) {
  char buf[4096];
  size_t len = 0;
  int armed = 0, helo = 0;
  say(fd, "220 crashy ESMTP\r\n");
  for (;;) {
    char *nl = memchr(buf, '\n', len);
    if (nl == NULL) {
      if (len == sizeof buf) len = 0; /* no line end in 4 KiB: drop */
      ssize_t r = read(fd, buf + len, sizeof buf - len);
      if (r <= 0) return armed;
      len += (size_t)r;
      continue;
    }
    size_t n = (size_t)(nl - buf);
    char line[4096];
    size_t keep = n > 0 && buf[n - 1] == '\r' ? n - 1 : n;
    memcpy(line, buf, keep);
    line[keep] = '\0';
    len -= n + 1;
    memmove(buf, nl + 1, len);
    const char *sp = strchr(line, ' ');
    const char *arg = sp == NULL ? "" : sp + 1;
    if (verb_is(line, "EHLO") || verb_is(line, "HELO")) {
      helo = 1;
      say(fd, "250 crashy\r\n");
    } else if (verb_is(line, "HELP")) {
      help_abort(arg);
      say(fd, "214 2.0.0 see RFC 5321\r\n");
    } else if (verb_is(line, "VRFY")) {
      vrfy_abort(arg);
      say(fd, "252 2.1.5 cannot verify\r\n");
    } else if (verb_is(line, "NOOP")) {
      if (strcasecmp(arg, "LATER") == 0) armed = 1;
      say(fd, "250 2.0.0 ok\r\n");
    } else if (verb_is(line, "RSET")) {
      say(fd, "250 2.0.0 reset\r\n");
    } else if (verb_is(line, "MAIL") || verb_is(line, "RCPT")) {
      say(fd, helo ? "250 2.1.0 ok\r\n" : "503 5.5.1 EHLO first\r\n");
    } else if (verb_is(line, "QUIT")) {
      say(fd, "221 2.0.0 bye\r\n");
      return armed;
    } else {
      say(fd, "500 5.5.1 unknown command\r\n");
    }
  }
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: crashy_smtpd PORT\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  int s = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)atoi(argv[1]));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, 64) != 0) {
    perror("crashy_smtpd: bind/listen");
    return 1;
  }
  for (;;) {
    int fd = accept(s, NULL, NULL);
    if (fd < 0) continue;
    struct timeval tv = {5, 0}; /* a silent client cannot hold the server */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int armed = serve(fd);
    /* A lingering close, as tiny_smtpd's: unread input would reset the
     * connection and could destroy the last reply in flight. */
    shutdown(fd, SHUT_WR);
    struct timeval drain = {0, 200000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &drain, sizeof drain);
    char sink[4096];
    while (read(fd, sink, sizeof sink) > 0) {
    }
    close(fd);
    die_later(armed);
  }
}
