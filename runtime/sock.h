/*
 * Sockets as runtime objects: a registered fd (netpoll.h) with what every
 * goroutine using it shares, reference-counted like a channel so that a
 * socket travels between goroutines by reference. Any goroutine, on any
 * worker, may use or close it; the poller's turns make one operation per
 * direction run at a time, and the state below marked "turn holder" is
 * touched only by whoever holds that direction's turn. The Lua API is
 * lua-bindings/net.c's; the proc helper's pipes are streams too.
 */
#ifndef LNG_SOCK_H
#define LNG_SOCK_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include "obj.h"
#include "netpoll.h"

typedef struct lng_sock {
  lng_obj obj;              /* LNG_OBJ_LISTENER, LNG_OBJ_CONN or LNG_OBJ_PACKET */
  lng_pollfd *pd;
  int family;               /* AF_INET, AF_INET6, AF_UNIX, or AF_UNSPEC (a pipe) */
  int issock;               /* recv/send, else read/write */
  atomic_llong timeout;     /* per operation, ns; < 0: none */
  atomic_llong deadline;    /* absolute (lng_now_ns), 0: none */
  char *unlinkpath;         /* a unix listener's file, removed at close */
  atomic_int closed;        /* lng_sock_close has run */
  /* read turn holder */
  char *rbuf;
  size_t rpos, rlen, rcap;  /* unread bytes are rbuf[rpos..rlen) */
  lng_iowait riw;           /* its readiness wait */
  int rpat;                 /* the receive under way: pattern */
  size_t rn;                /* and its count */
  int64_t rdeadline;        /* its deadline (0: none) */
  /* write turn holder */
  lng_iowait wiw;
  size_t wsent;
  int64_t wdeadline;
  unsigned char waddr[128]; /* a sendto's address (a sockaddr_storage) */
  unsigned int waddrlen;
} lng_sock;

/* A socket of that kind around fd, registered with np, one reference held
   by the caller; NULL with errno set on failure (fd is then the caller's). */
lng_sock *lng_sock_new(lng_netpoll *np, int fd, int kind, int family, int issock);
/* Closes (netpoll.h: blocked operations end with CLOSED at once). */
void lng_sock_close(lng_sock *sk, int self);
/* The deadline of an operation starting now: the earlier of now + the
   timeout and the absolute deadline; 0 when neither is set. */
int64_t lng_sock_opdeadline(lng_sock *sk);
/* Room for `need` more bytes after the unread ones (turn holder); -1 when
   out of memory. */
int lng_sock_rreserve(lng_sock *sk, size_t need);
/* Appends n bytes after the unread ones; -1 when out of memory. */
int lng_sock_rappend(lng_sock *sk, const char *p, size_t n);
/* Gives the read buffer back when nothing is unread in it (an idle
   connection holds none). */
void lng_sock_rtrim(lng_sock *sk);

#endif
