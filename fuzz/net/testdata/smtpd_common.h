/* smtpd_common.h: what the planted-bug test servers (tiny_smtpd.c,
 * crashy_smtpd.c) share: the reply write, the line reader, the verb match,
 * and the loopback listener with its accept and lingering close. Each server
 * keeps its own commands, state and planted bugs; the include puts these
 * functions into the server's own translation unit, so an AFL++ build
 * instruments them as before. Test code only: one connection at a time.
 */
#ifndef SMTP_FUZZ_NET_TESTDATA_SMTPD_COMMON_H_
#define SMTP_FUZZ_NET_TESTDATA_SMTPD_COMMON_H_

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* What is read from the client and not yet cut into lines: 4 KiB. */
struct line_buf {
  int fd;
  char buf[4096];
  size_t len;
};

/* Writes all of `text` to `fd`; gives up at the first failed write. */
static inline void say_fd(int fd, const char* text) {
  size_t n = strlen(text);
  while (n > 0) {
    ssize_t w = write(fd, text, n);
    if (w <= 0) return;
    text += w;
    n -= (size_t)w;
  }
}

/* One line without its CRLF (a bare LF ends one too) into `line`; 0 at EOF
 * or error, -1 when the line is too long for `max` (the rest of it is
 * discarded). 4 KiB without a line end are dropped. */
static inline int read_line(struct line_buf* b, char* line, size_t max) {
  for (;;) {
    char* nl = memchr(b->buf, '\n', b->len);
    if (nl != NULL) {
      size_t n = (size_t)(nl - b->buf);
      size_t keep = n > 0 && b->buf[n - 1] == '\r' ? n - 1 : n;
      int too_long = keep >= max;
      if (too_long) keep = max - 1;
      memcpy(line, b->buf, keep);
      line[keep] = '\0';
      b->len -= n + 1;
      memmove(b->buf, nl + 1, b->len);
      return too_long ? -1 : 1;
    }
    if (b->len == sizeof b->buf) b->len = 0; /* no line end in 4 KiB: drop */
    ssize_t r = read(b->fd, b->buf + b->len, sizeof b->buf - b->len);
    if (r <= 0) return 0;
    b->len += (size_t)r;
  }
}

/* Whether `line` is the command `verb` (any case), alone or with an
 * argument after a space. */
static inline int verb_is(const char* line, const char* verb) {
  size_t n = strlen(verb);
  return strncasecmp(line, verb, n) == 0 && (line[n] == '\0' || line[n] == ' ');
}

/* A socket listening on 127.0.0.1:`port`; on failure says so as `name` and
 * exits 1. */
static inline int listen_loopback(const char* name, const char* port) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)atoi(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(s, (struct sockaddr*)&a, sizeof a) != 0 || listen(s, 64) != 0) {
    fprintf(stderr, "%s: bind/listen: %s\n", name, strerror(errno));
    exit(1);
  }
  return s;
}

/* The next client of `s`, with a 5-s receive timeout (a silent client
 * cannot hold the server) and TCP_NODELAY (one write per reply: without
 * it, Nagle and the client's delayed ACK hold every second reply of a
 * pipelined group for 40 ms). */
static inline int accept_client(int s) {
  for (;;) {
    int fd = accept(s, NULL, NULL);
    if (fd < 0) continue;
    int one = 1;
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
  }
}

/* A lingering close: closing with unread input would reset the connection
 * and could destroy the last reply in flight. Reads what comes until the
 * client closes or is quiet for 200 ms. */
static inline void lingering_close(int fd) {
  shutdown(fd, SHUT_WR);
  struct timeval drain = {0, 200000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &drain, sizeof drain);
  char sink[4096];
  while (read(fd, sink, sizeof sink) > 0) {
  }
  close(fd);
}

#endif /* SMTP_FUZZ_NET_TESTDATA_SMTPD_COMMON_H_ */
