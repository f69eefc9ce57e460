/* Pipes to and from children; see pipe.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "pipe.h"

#define FILL_CHUNK 65536

static void pipe_destroy(lng_obj *o) {
  lng_pipe *p = (lng_pipe *)o;
  lng_pollfd_free(p->pd);
  free(p->buf);
  free(p);
}

lng_pipe *lng_pipe_new(lng_netpoll *np, int fd, int writable) {
  lng_pipe *p = calloc(1, sizeof *p);
  if (!p || !(p->pd = lng_pollfd_open(np, fd))) {
    int e = errno;
    free(p);
    close(fd);
    errno = e;
    return NULL;
  }
  lng_obj_init(&p->obj, LNG_OBJ_PIPE, pipe_destroy);
  p->writable = writable;
  return p;
}

ssize_t lng_pipe_fill(lng_pipe *p) {
  if (p->off == p->len) p->off = p->len = 0;
  if (p->cap - p->len < FILL_CHUNK) {
    if (p->off > 0) {        /* slide what is left to the front first */
      memmove(p->buf, p->buf + p->off, p->len - p->off);
      p->len -= p->off;
      p->off = 0;
    }
    if (p->cap - p->len < FILL_CHUNK) {
      size_t cap = p->cap ? p->cap : FILL_CHUNK;
      while (cap - p->len < FILL_CHUNK) cap *= 2;
      char *b = realloc(p->buf, cap);
      if (!b) return -ENOMEM;
      p->buf = b;
      p->cap = cap;
    }
  }
  int fd = lng_pollfd_use(p->pd);
  if (fd < 0) return -EBADF;
  ssize_t n;
  do n = read(fd, p->buf + p->len, p->cap - p->len); while (n < 0 && errno == EINTR);
  int e = errno;
  lng_pollfd_unuse(p->pd);
  if (n < 0) return -(ssize_t)(e == EWOULDBLOCK ? EAGAIN : e);
  if (n == 0) p->eof = 1;
  p->len += (size_t)n;
  return n;
}

ssize_t lng_pipe_write(lng_pipe *p, const char *s, size_t n) {
  int fd = lng_pollfd_use(p->pd);
  if (fd < 0) return -EBADF;
  ssize_t w;
  do w = write(fd, s, n); while (w < 0 && errno == EINTR);
  int e = errno;
  lng_pollfd_unuse(p->pd);
  if (w < 0) return -(ssize_t)(e == EWOULDBLOCK ? EAGAIN : e);
  return w;
}
