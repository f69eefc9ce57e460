/* Sockets as runtime objects; see sock.h. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "sock.h"

#define RBUF_MIN 256      /* a leftover is usually short: a small block */

static void sock_destroy(lng_obj *o) {
  lng_sock *sk = (lng_sock *)o;
  lng_sock_close(sk, -1);
  lng_pollfd_free(sk->pd);
  free(sk->unlinkpath);
  free(sk->rbuf);
  free(sk);
}

lng_sock *lng_sock_new(lng_netpoll *np, int fd, int kind, int family, int issock) {
  lng_sock *sk = calloc(1, sizeof *sk);
  if (!sk) return NULL;
  if (!(sk->pd = lng_pollfd_open(np, fd))) {
    free(sk);
    return NULL;
  }
  lng_obj_init(&sk->obj, kind, sock_destroy);
  sk->family = family;
  sk->issock = issock;
  atomic_init(&sk->timeout, -1);
  atomic_init(&sk->deadline, 0);
  return sk;
}

void lng_sock_close(lng_sock *sk, int self) {
  if (atomic_exchange(&sk->closed, 1)) return;
  lng_pollfd_close(sk->pd, self);
  /* (a unix listener's file goes with it, as Go removes it) */
  if (sk->unlinkpath) unlink(sk->unlinkpath);
}

int64_t lng_sock_opdeadline(lng_sock *sk) {
  int64_t t = atomic_load_explicit(&sk->timeout, memory_order_relaxed);
  int64_t d = atomic_load_explicit(&sk->deadline, memory_order_relaxed);
  int64_t r = 0;
  if (t >= 0) {
    r = lng_now_ns() + t;
    if (r <= 0) r = 1;
  }
  if (d > 0 && (!r || d < r)) r = d;
  return r;
}

int lng_sock_rreserve(lng_sock *sk, size_t need) {
  if (sk->rpos == sk->rlen) sk->rpos = sk->rlen = 0;
  if (sk->rcap - sk->rlen >= need) return 0;
  if (sk->rpos > 0) {                       /* move the unread bytes to the front */
    memmove(sk->rbuf, sk->rbuf + sk->rpos, sk->rlen - sk->rpos);
    sk->rlen -= sk->rpos;
    sk->rpos = 0;
    if (sk->rcap - sk->rlen >= need) return 0;
  }
  size_t cap = sk->rcap ? sk->rcap : RBUF_MIN;
  while (cap - sk->rlen < need) {
    if (cap > SIZE_MAX / 2) return -1;
    cap *= 2;
  }
  char *b = realloc(sk->rbuf, cap);
  if (!b) return -1;
  sk->rbuf = b;
  sk->rcap = cap;
  return 0;
}

int lng_sock_rappend(lng_sock *sk, const char *p, size_t n) {
  if (lng_sock_rreserve(sk, n) != 0) return -1;
  memcpy(sk->rbuf + sk->rlen, p, n);
  sk->rlen += n;
  return 0;
}

void lng_sock_rtrim(lng_sock *sk) {
  if (sk->rpos != sk->rlen || !sk->rbuf) return;
  free(sk->rbuf);
  sk->rbuf = NULL;
  sk->rpos = sk->rlen = sk->rcap = 0;
}
