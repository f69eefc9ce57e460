/*
 * io.read's formats on a pool thread; see filejob.h. The grammar of a
 * number and the success rules are liolib's (Lua 5.4), so that results
 * equal the stock functions'.
 */
#include <ctype.h>
#include <errno.h>
#include <locale.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include "filejob.h"

#define MAXLENNUM 200          /* liolib's L_MAXLENNUM: longer numerals fail */

/* Bytes in f's read buffer (glibc's FILE fields are public); elsewhere 0,
   and the reader then does not wait for the descriptor first. */
static size_t buffered(FILE *f) {
#ifdef __GLIBC__
  return f->_IO_read_ptr < f->_IO_read_end ? (size_t)(f->_IO_read_end - f->_IO_read_ptr) : 0;
#else
  (void)f;
  return 0;
#endif
}

int lng_readjob_buffered(FILE *f, const lng_rfmt *fmt) {
#ifdef __GLIBC__
  size_t n = buffered(f);
  if (n == 0) return 0;
  if (fmt->kind == LNG_RFMT_COUNT) return fmt->n <= n;
  if (fmt->kind == LNG_RFMT_LINE || fmt->kind == LNG_RFMT_LINEKEEP)
    return memchr(f->_IO_read_ptr, '\n', n) != NULL;
  if (fmt->kind == LNG_RFMT_NUMBER) {
    /* a numeral holds no space and ends within MAXLENNUM bytes of its
       first byte (a longer one fails there): with a space buffered after
       that byte, or that many bytes, the stock read never reaches the
       descriptor */
    const char *b = f->_IO_read_ptr;
    size_t i = 0;
    while (i < n && isspace((unsigned char)b[i])) i++;
    if (i == n) return 0;
    if (n - i > MAXLENNUM + 1) return 1;
    for (size_t j = i + 1; j < n; j++)
      if (isspace((unsigned char)b[j])) return 1;
    return 0;
  }
  return 0;
#else
  (void)f; (void)fmt;
  return 0;
#endif
}

typedef struct reader {
  lng_readjob *j;
  int locked;
} reader;

static void unlock(reader *r) {
  if (r->locked) { funlockfile(r->j->f); r->locked = 0; }
}

/* The next byte, waiting for the descriptor (outside the FILE's lock)
   when nothing is buffered; EOF at end of file, on error or when stopped
   (j->stopped then says so). Leaves the lock held. */
static int rgetc(reader *r) {
  FILE *f = r->j->f;
  if (!r->locked) { flockfile(f); r->locked = 1; }
#ifdef __GLIBC__
  if (buffered(f) == 0 && !feof_unlocked(f) && !ferror_unlocked(f)) {
    unlock(r);
    if (lng_bjob_wait_fd(&r->j->job, fileno(f), POLLIN, -1) < 0) {
      r->j->stopped = 1;
      return EOF;
    }
    flockfile(f);
    r->locked = 1;
  }
#endif
  return getc_unlocked(f);
}

static int addc(lng_readjob *j, int c) {
  if (j->len == j->cap) {
    size_t cap = j->cap ? j->cap * 2 : 256;
    char *b = realloc(j->buf, cap);
    if (!b) { j->nomem = 1; return -1; }
    j->buf = b;
    j->cap = cap;
  }
  j->buf[j->len++] = (char)c;
  return 0;
}

/* Up to max bytes (max >= 1) into the result: one byte that may wait,
   then what the buffer holds. 0 at end of file. */
static size_t rread(reader *r, size_t max) {
  lng_readjob *j = r->j;
  int c = rgetc(r);
  if (c == EOF || addc(j, c) != 0) return 0;
  size_t take = buffered(j->f);
  if (take > max - 1) take = max - 1;
  if (take == 0) return 1;
  if (j->cap - j->len < take) {
    size_t cap = j->cap;
    while (cap - j->len < take) cap *= 2;
    char *b = realloc(j->buf, cap);
    if (!b) { j->nomem = 1; return 1; }
    j->buf = b;
    j->cap = cap;
  }
  size_t got = fread_unlocked(j->buf + j->len, 1, take, j->f);
  j->len += got;
  return 1 + got;
}

static int read_line(reader *r, int chop) {
  lng_readjob *j = r->j;
  size_t start = j->len;
  int c;
  while ((c = rgetc(r)) != EOF && c != '\n')
    if (addc(j, c) != 0) return 0;
  if (!chop && c == '\n' && addc(j, c) != 0) return 0;
  return c == '\n' || j->len > start;
}

static void read_all(reader *r) {
  while (!r->j->stopped && !r->j->nomem && rread(r, (size_t)1 << 16) > 0) {}
}

static int read_chars(reader *r, size_t n) {
  lng_readjob *j = r->j;
  size_t start = j->len;
  while (j->len - start < n && !j->nomem) {
    if (rread(r, n - (j->len - start)) == 0) break;
  }
  return j->len > start;
}

static int test_eof(reader *r) {
  int c = rgetc(r);
  if (c != EOF) ungetc(c, r->j->f);
  return c != EOF;
}

/* liolib's read_number: the longest prefix that may be a numeral, the
   look-ahead byte pushed back. Whether lua_stringtonumber will take the
   text is decided here by the same grammar: at least one digit in the
   mantissa, and a digit after an exponent mark. */
typedef struct rn {
  reader *r;
  int c, n, bad;
  char buff[MAXLENNUM + 1];
} rn;

static int nextc(rn *x) {
  if (x->n >= MAXLENNUM) { x->bad = 1; return 0; }
  x->buff[x->n++] = (char)x->c;
  x->c = rgetc(x->r);
  return 1;
}

static int test2(rn *x, const char *set) {
  if (x->c == set[0] || x->c == set[1]) return nextc(x);
  return 0;
}

static int readdigits(rn *x, int hex) {
  int count = 0;
  while ((hex ? isxdigit(x->c) : isdigit(x->c)) && nextc(x)) count++;
  return count;
}

static int read_number(reader *r) {
  rn x = { .r = r };
  int count = 0, hex = 0, expdigits = 1;
  char decp[2] = { localeconv()->decimal_point[0], '.' };
  do x.c = rgetc(r); while (isspace(x.c));
  test2(&x, "-+");
  if (test2(&x, "00")) {
    if (test2(&x, "xX")) hex = 1;
    else count = 1;
  }
  count += readdigits(&x, hex);
  if (test2(&x, decp)) count += readdigits(&x, hex);
  if (count > 0 && test2(&x, hex ? "pP" : "eE")) {
    test2(&x, "-+");
    expdigits = readdigits(&x, 0);
  }
  if (x.c != EOF) ungetc(x.c, r->j->f);
  for (int i = 0; i < x.n; i++)
    if (addc(r->j, x.buff[i]) != 0) return 0;
  return !x.bad && count > 0 && expdigits > 0;
}

static void readjob_run(lng_bjob *job) {
  lng_readjob *j = (lng_readjob *)job;
  reader r = { j, 0 };
  flockfile(j->f);
  clearerr_unlocked(j->f);
  funlockfile(j->f);
  int ok = 1;
  for (int i = 0; i < j->nfmt && ok; i++) {
    lng_rfmt *fm = &j->fmt[i];
    if (fm->kind == LNG_RFMT_STOP) break;
    size_t start = j->len;
    switch (fm->kind) {
      case LNG_RFMT_LINE: ok = read_line(&r, 1); break;
      case LNG_RFMT_LINEKEEP: ok = read_line(&r, 0); break;
      case LNG_RFMT_ALL: read_all(&r); ok = 1; break;
      case LNG_RFMT_NUMBER: ok = read_number(&r); break;
      default: ok = fm->n == 0 ? test_eof(&r) : read_chars(&r, fm->n); break;
    }
    unlock(&r);
    if (j->stopped || j->nomem) return;
    j->res[j->nres++] = (lng_rres){ ok, start, j->len - start };
  }
  int e = errno;
  flockfile(j->f);
  if (ferror_unlocked(j->f)) j->err = e ? e : EIO;
  funlockfile(j->f);
}

static void readjob_free(lng_bjob *job) {
  lng_readjob *j = (lng_readjob *)job;
  free(j->buf);
  free(j);
}

lng_readjob *lng_readjob_new(FILE *f, int nfmt) {
  size_t n = (size_t)(nfmt > 0 ? nfmt : 1);
  /* one block: the job, then its formats and results */
  lng_readjob *j = calloc(1, sizeof *j + n * (sizeof(lng_rfmt) + sizeof(lng_rres)));
  if (!j) return NULL;
  j->f = f;
  j->nfmt = nfmt;
  j->fmt = (lng_rfmt *)(j + 1);
  j->res = (lng_rres *)(j->fmt + n);
  j->job.run = readjob_run;
  j->job.free = readjob_free;
  j->job.lane = LNG_LANE_WAIT;
  j->job.abortable = 1;
  lng_bjob_init(&j->job);
  return j;
}

/* ---- writes ---- */

#define WRITE_PIECE 512      /* with a buffer of a page or more: one flush at most */

static void writejob_run(lng_bjob *job) {
  lng_writejob *j = (lng_writejob *)job;
  j->ok = 1;
  while (j->done < j->len) {
    if (lng_bjob_wait_fd(job, fileno(j->f), POLLOUT, -1) < 0) { j->stopped = 1; return; }
    size_t n = j->len - j->done;
    if (n > WRITE_PIECE) n = WRITE_PIECE;
    size_t w = fwrite(j->data + j->done, 1, n, j->f);
    j->done += w;
    if (w < n) { j->ok = 0; j->err = errno ? errno : EIO; return; }
  }
  if (j->flush) {
    if (lng_bjob_wait_fd(job, fileno(j->f), POLLOUT, -1) < 0) { j->stopped = 1; return; }
    if (fflush(j->f) != 0) { j->ok = 0; j->err = errno ? errno : EIO; }
  }
}

static void writejob_free(lng_bjob *job) {
  lng_writejob *j = (lng_writejob *)job;
  free(j->data);
  free(j);
}

lng_writejob *lng_writejob_new(FILE *f, const char *s, size_t len) {
  lng_writejob *j = calloc(1, sizeof *j);
  char *d = malloc(len ? len : 1);
  if (!j || !d) { free(j); free(d); return NULL; }
  memcpy(d, s, len);
  j->f = f;
  j->data = d;
  j->len = len;
  j->job.run = writejob_run;
  j->job.free = writejob_free;
  j->job.lane = LNG_LANE_WAIT;
  j->job.abortable = 1;
  lng_bjob_init(&j->job);
  return j;
}
