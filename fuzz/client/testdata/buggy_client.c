/* buggy_client: a small SMTP client in C with planted bugs, for testing
 * `smtp-harness fuzz --client` (fuzz/client/) against a client built with
 * AFL++'s compiler (afl-cc): its edge coverage reaches the fuzzer through
 * the AFL shared-memory convention (__AFL_SHM_ID), its crashes and
 * sanitizer reports through the process itself. Test code only.
 *
 *   buggy_client HOST PORT FROM TO MESSAGE_FILE
 *
 * Sends one message: greeting, EHLO (HELO when EHLO is refused), MAIL,
 * RCPT, DATA, the message dot-stuffed, QUIT. Every read waits at most 250 ms;
 * exit 0 when the message was accepted, 1 otherwise.
 *
 * PLANTED BUGS (on purpose; the fuzzer must find them):
 *   1. Shallow: the lines of one reply are kept in an array of 12; a reply
 *      of more than 12 lines writes past it (with AddressSanitizer: a
 *      stack-buffer-overflow report on stderr).
 *   2. Deep: when EHLO advertised both DSN (not in the harness's default
 *      list) and 8BITMIME, the client asks for delivery notices (RET=,
 *      NOTIFY=) and, on a 251 to RCPT ("user not local; will forward to
 *      <path>"), reads the new path from between the reply's angle
 *      brackets without checking they are there: a NULL dereference
 *      (SIGSEGV; with AddressSanitizer its SEGV report) when the reply has
 *      no '<'.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

enum { kMaxLines = 12, kLineMax = 1024 };

struct reply {
  int code;
  int nlines;
  char text[kLineMax]; /* the last line's text */
};

static int sock = -1;
static char inbuf[65536];
static size_t inlen = 0;

static int fill(void) {
  struct pollfd p = {sock, POLLIN, 0};
  if (poll(&p, 1, 250) <= 0) return -1; /* 250 ms per read */
  if (inlen >= sizeof inbuf) return -1;
  ssize_t n = read(sock, inbuf + inlen, sizeof inbuf - inlen);
  if (n <= 0) return -1;
  inlen += (size_t)n;
  return 0;
}

/* One line without its CRLF (or LF) into out (cut at kLineMax - 1). */
static int read_line(char *out) {
  for (;;) {
    char *nl = memchr(inbuf, '\n', inlen);
    if (nl != NULL) {
      size_t len = (size_t)(nl - inbuf);
      size_t keep = len;
      if (keep > 0 && inbuf[keep - 1] == '\r') --keep;
      if (keep > kLineMax - 1) keep = kLineMax - 1;
      memcpy(out, inbuf, keep);
      out[keep] = '\0';
      memmove(inbuf, nl + 1, inlen - len - 1);
      inlen -= len + 1;
      return 0;
    }
    if (fill() != 0) return -1;
  }
}

/* Extension keywords of the last EHLO reply. */
static int has_pipelining, has_8bitmime, has_dsn, has_chunking, has_size;

static void note_extension(const char *line) {
  const char *kw = line + 4;
  if (strncasecmp(kw, "PIPELINING", 10) == 0) has_pipelining = 1;
  else if (strncasecmp(kw, "8BITMIME", 8) == 0) has_8bitmime = 1;
  else if (strncasecmp(kw, "DSN", 3) == 0) has_dsn = 1;
  else if (strncasecmp(kw, "CHUNKING", 8) == 0) has_chunking = 1;
  else if (strncasecmp(kw, "SIZE", 4) == 0) has_size = 1;
}

static int read_reply(struct reply *r, int ehlo) {
  char lines[kMaxLines][kLineMax];
  char line[kLineMax];
  r->nlines = 0;
  for (;;) {
    if (read_line(line) != 0) return -1;
    if (strlen(line) < 3) return -1;
    /* PLANTED BUG 1: no bound on r->nlines. */
    strcpy(lines[r->nlines], line);
    r->nlines++;
    if (ehlo && r->nlines > 1) note_extension(line);
    if (line[3] != '-') break;
  }
  r->code = atoi(lines[r->nlines - 1]);
  snprintf(r->text, sizeof r->text, "%s", strlen(line) > 4 ? line + 4 : "");
  return 0;
}

static int say(const char *text) {
  size_t n = strlen(text);
  while (n > 0) {
    ssize_t w = write(sock, text, n);
    if (w <= 0) return -1;
    text += w;
    n -= (size_t)w;
  }
  return 0;
}

static int command(const char *line, struct reply *r, int ehlo) {
  if (say(line) != 0) return -1;
  return read_reply(r, ehlo);
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: buggy_client HOST PORT FROM TO MESSAGE_FILE\n");
    return 2;
  }
  /* A write to a server that closed is an error, not a death by SIGPIPE. */
  signal(SIGPIPE, SIG_IGN);
  FILE *mf = fopen(argv[5], "rb");
  if (mf == NULL) {
    perror(argv[5]);
    return 2;
  }
  static char message[65536];
  size_t mlen = fread(message, 1, sizeof message - 1, mf);
  fclose(mf);
  message[mlen] = '\0';

  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((unsigned short)atoi(argv[2]));
  if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) return 2;
  sock = socket(AF_INET, SOCK_STREAM, 0);
  if (sock < 0 || connect(sock, (struct sockaddr *)&sa, sizeof sa) != 0) {
    perror("connect");
    return 1;
  }
  struct reply r;
  char line[2048];
  if (read_reply(&r, 0) != 0 || r.code != 220) return 1;
  if (command("EHLO client.test\r\n", &r, 1) != 0) return 1;
  if (r.code != 250) {
    has_pipelining = has_8bitmime = has_dsn = has_chunking = has_size = 0;
    if (command("HELO client.test\r\n", &r, 0) != 0 || r.code != 250) return 1;
  }
  const int dsn = has_dsn && has_8bitmime;
  snprintf(line, sizeof line, "MAIL FROM:<%s>%s%s\r\n", argv[3],
           has_8bitmime ? " BODY=8BITMIME" : "", dsn ? " RET=HDRS" : "");
  if (command(line, &r, 0) != 0) return 1;
  if (r.code != 250) {
    command("QUIT\r\n", &r, 0);
    return 1;
  }
  snprintf(line, sizeof line, "RCPT TO:<%s>%s\r\n", argv[4],
           dsn ? " NOTIFY=SUCCESS,FAILURE" : "");
  if (command(line, &r, 0) != 0) return 1;
  if (r.code == 251 && dsn) {
    /* PLANTED BUG 2: the forward path is assumed to be there. */
    char *open = strchr(r.text, '<');
    char *close = strchr(open, '>');
    if (close != NULL) *close = '\0';
    fprintf(stderr, "forwarded to %s\n", open + 1);
  } else if (r.code == 251) {
    fprintf(stderr, "recipient will be forwarded\n");
  } else if (r.code != 250) {
    command("QUIT\r\n", &r, 0);
    return 1;
  }
  if (command("DATA\r\n", &r, 0) != 0 || r.code != 354) return 1;
  /* The message, dot-stuffed, line by line. */
  char *p = message;
  while (*p != '\0') {
    char *nl = strstr(p, "\r\n");
    size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
    if (p[0] == '.' && say(".") != 0) return 1;
    if (write(sock, p, len) != (ssize_t)len || say("\r\n") != 0) return 1;
    p += len + (nl != NULL ? 2 : 0);
  }
  if (command(".\r\n", &r, 0) != 0) return 1;
  const int ok = r.code == 250;
  command("QUIT\r\n", &r, 0);
  close(sock);
  return ok ? 0 : 1;
}
