/*
 * Reading and writing a FILE on the pool (blockpool.h): the formats of Lua's
 * io.read ("l", "L", "n", "a", a count) carried out on a pool thread, on
 * the same FILE and its buffer as the stock functions, while the goroutine
 * that asked parks. Each format follows liolib's g_read to the letter: the
 * list stops at the first that fails, a number is read by the same
 * grammar, and the FILE's error flag becomes the error result.
 *
 * The FILE's lock is held only while the buffer has bytes: with the
 * buffer empty the thread waits for the descriptor outside the lock
 * (lng_bjob_wait_fd), so fflush(NULL) in another thread (io.popen) is not
 * held up by a read that waits for input, and a cancel or a shutdown ends
 * the wait.
 *
 * Plain C: the binding turns the results into Lua values.
 */
#ifndef LNG_FILEJOB_H
#define LNG_FILEJOB_H

#include <stdio.h>
#include "blockpool.h"

enum {
  LNG_RFMT_LINE,      /* "l": a line without its "\n" */
  LNG_RFMT_LINEKEEP,  /* "L": with it */
  LNG_RFMT_ALL,       /* "a" */
  LNG_RFMT_NUMBER,    /* "n": the numeral's text; the binding converts it */
  LNG_RFMT_COUNT,     /* n bytes; 0: "" unless at end of file */
  LNG_RFMT_STOP       /* a bad argument: the binding raises its error there */
};

typedef struct lng_rfmt { int kind; size_t n; } lng_rfmt;
typedef struct lng_rres { int ok; size_t off, len; } lng_rres;

typedef struct lng_readjob {
  lng_bjob job;
  FILE *f;
  int nfmt, nres;        /* formats asked; results made (the last may have failed) */
  lng_rfmt *fmt;
  lng_rres *res;
  char *buf;             /* every result's bytes, one after the other */
  size_t len, cap;
  int err;               /* errno when the FILE's error flag was set, else 0 */
  int stopped;           /* cancelled or the pool stopping: results incomplete */
  int nomem;
} lng_readjob;

/* A job with room for nfmt formats (filled in by the caller), submitted
   to the WAIT lane; NULL when out of memory. */
lng_readjob *lng_readjob_new(FILE *f, int nfmt);

/* Whether the FILE's buffer serves one format without a read(2): "l" or
   "L" with a "\n" buffered, a count with that many bytes, "n" with a
   numeral's longest length buffered after the spaces. Always 0 where
   stdio's buffer cannot be looked into. */
int lng_readjob_buffered(FILE *f, const lng_rfmt *fmt);

/* Writing a FILE (a popen pipe, standard output or error) on the pool:
   the bytes go in pieces small enough that, once the descriptor polls
   writable, neither the copy into the FILE's buffer nor the flush it may
   cause can block; so a cancel or a shutdown ends the wait. With flush
   set (the caller's, before submitting) the FILE is flushed afterwards,
   as print does. ok is 0 with err set when fwrite or fflush failed (EPIPE
   where Lua would have died of SIGPIPE: pool threads block signals). */
typedef struct lng_writejob {
  lng_bjob job;
  FILE *f;
  char *data;
  size_t len, done;
  int flush;
  int ok, err, stopped;
} lng_writejob;

/* A job that writes a copy of s[0..len); NULL when out of memory. */
lng_writejob *lng_writejob_new(FILE *f, const char *s, size_t len);

#endif
