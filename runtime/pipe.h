/*
 * One end of a pipe to or from a child (go.exec's proc.stdin, .stdout,
 * .stderr) as a runtime object: reference-counted, so it travels between
 * goroutines by reference, non-blocking on the netpoller (netpoll.h).
 * Reads go through a buffer of the pipe's own, so that a line pattern can
 * take one line and leave the rest for the next receive; the buffer
 * belongs to whoever holds the READ turn (lng_pollfd_acquire), which is
 * how several receivers take turns. A send holds the WRITE turn for the
 * whole of its data, so concurrent sends are never interleaved.
 *
 * The stream methods (lua-bindings/stream.c) are the conn methods of
 * go.net (receive patterns, send, close), written against this object.
 */
#ifndef LNG_PIPE_H
#define LNG_PIPE_H

#include <stddef.h>
#include <sys/types.h>
#include "obj.h"
#include "netpoll.h"

typedef struct lng_pipe {
  lng_obj obj;
  lng_pollfd *pd;
  int writable;              /* our end writes (the child's stdin) */
  /* the READ turn's: bytes read and not yet received */
  char *buf;
  size_t off, len, cap;
  int eof;
} lng_pipe;

/* Takes fd (registered, made non-blocking); NULL with fd closed on failure. */
lng_pipe *lng_pipe_new(lng_netpoll *np, int fd, int writable);
/* With the READ turn: reads what the fd has into the buffer. > 0 bytes
   read, 0 end of file (eof set), -EAGAIN nothing yet, -errno (-EBADF once
   closed). */
ssize_t lng_pipe_fill(lng_pipe *p);
/* Bytes buffered and not received. */
static inline size_t lng_pipe_buffered(const lng_pipe *p) { return p->len - p->off; }
/* With the WRITE turn: writes up to n bytes; >= 0 written, -errno. */
ssize_t lng_pipe_write(lng_pipe *p, const char *s, size_t n);

#endif
