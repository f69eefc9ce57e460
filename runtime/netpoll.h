/*
 * The network poller: one edge-triggered epoll set per runtime, made on
 * first use, through which goroutines wait for file descriptors (sockets,
 * pipes, pidfds) without blocking their worker. Go's netpoller, adapted:
 *
 *  - each fd is registered once (lng_pollfd_open), for reading and writing,
 *    edge-triggered; an operation tries its system call first and waits
 *    only after EAGAIN;
 *  - a registered fd (lng_pollfd) has, per direction (READ, WRITE), a turn
 *    (one operation at a time: multi-step operations, a line read or a
 *    long send, are never interleaved) with a FIFO of operations waiting
 *    for it, and a FIFO of those waiting for the fd to become ready;
 *  - every wait may have a deadline (monotonic ns, lng_now_ns); one timer
 *    per direction, on the runtime's timer heap, is armed at the earliest;
 *  - lng_pollfd_close wakes every wait with LNG_RES_CLOSED at once; the fd
 *    itself is closed when the last operation using it lets go, so a number
 *    reused by the kernel for a new fd is never touched by an old operation.
 *    Records are recycled, never freed before the poller, and events and
 *    timers carry a sequence number: a stale one finds a new incarnation and
 *    does nothing;
 *  - the workers poll (sched_wake.c): an idle worker blocks in epoll_wait
 *    until its next timer (one at a time: the owner), busy ones poll without
 *    waiting now and then, the monitor when nobody has for 10 ms; an eventfd
 *    breaks a blocked epoll_wait when work arrives for its worker;
 *  - a goroutine waiting here counts as a possible waker for deadlock
 *    detection (lng_sched_hold), as a pending timer does.
 *
 * Using it from a goroutine (a binding; vm/block.h does the parking):
 *
 *     lng_iowait *iw = ...;          // lives until the wait is over (a userdata)
 *     iw->w.sched/g set by lng_block_bind; iw->deadline = 0 or a time
 *     r = lng_pollfd_acquire(pd, LNG_POLL_READ, iw);   // the turn
 *     ... OK: go on; PARKED: park, and on wake-up iw->w.result is the
 *     ... result (OK: the turn is yours); CLOSED, TIMEOUT: give up
 *     loop: n = read(fd) ...; on EAGAIN:
 *       r = lng_pollfd_wait(pd, LNG_POLL_READ, iw);
 *       OK: try again now; PARKED: park, then iw->w.result: OK try again,
 *       CLOSED or TIMEOUT: give up (still holding the turn)
 *     lng_pollfd_release(pd, LNG_POLL_READ, self);     // always, once acquired
 *
 * Given iw == NULL (the caller cannot park), acquire and wait return
 * LNG_RES_WOULDBLOCK instead of PARKED. A user with only one operation per
 * direction at a time (one reader of a pipe) may skip acquire/release and
 * call lng_pollfd_wait alone, around lng_pollfd_use/lng_pollfd_unuse.
 *
 * Results are lng_res codes (res.h): OK, PARKED, WOULDBLOCK, CLOSED,
 * TIMEOUT.
 */
#ifndef LNG_NETPOLL_H
#define LNG_NETPOLL_H

#include <stdint.h>
#include "waitable.h"
#include "timer.h"

typedef struct lng_sched lng_sched;
typedef struct lng_netpoll lng_netpoll;
typedef struct lng_pollfd lng_pollfd;

enum { LNG_POLL_READ = 0, LNG_POLL_WRITE = 1 };

/* One wait on a pollfd: a waiter (a goroutine's, bound with
   lng_block_bind, or a C thread's) and its deadline. The caller owns the
   memory and keeps it until the wait is over: the poller touches it only
   while it is queued, under the pollfd's lock. */
typedef struct lng_iowait {
  lng_waiter w;          /* first: who to wake; w.result is the outcome */
  int64_t deadline;      /* monotonic ns (lng_now_ns); 0: none */
  lng_pollfd *pd;        /* private: where it waits */
  unsigned char dir;     /* private */
  unsigned char turn;    /* private: 1 waiting for the turn, 0 for readiness */
} lng_iowait;

/* ---- the poller (the scheduler owns it; see sched.h) ---- */

/* The runtime's poller, made on first call; NULL if epoll or the eventfd
   cannot be made (errno tells). */
lng_netpoll *lng_sched_netpoll(lng_sched *s);

/* For the scheduler: made by lng_sched_netpoll, freed with the scheduler
   (workers stopped; open pollfds are closed). */
lng_netpoll *lng_netpoll_new(lng_sched *s);
void lng_netpoll_free(lng_netpoll *np);
/* Whether any fd is registered: nothing to poll otherwise. */
int lng_netpoll_active(lng_netpoll *np);
/* Polls: timeout_ns < 0 waits until an event or a break, > 0 waits that
   long at most, 0 does not wait. Only one thread at a time polls with a
   wait (the owner): if another owns the poll, returns -1 at once. Polls
   without a wait run any time. Wakes the goroutines whose fds are ready
   (self: the calling worker, or -1) and returns how many, 0 when none (a
   timeout, a break, EINTR). */
int lng_netpoll_poll(lng_netpoll *np, int64_t timeout_ns, int self);
/* Makes a poll blocked in epoll_wait return (cheap when one is pending). */
void lng_netpoll_break(lng_netpoll *np);
/* When the last poll ended (lng_now_ns), and whether someone owns the
   poll (may wait in it) now. */
int64_t lng_netpoll_lastpoll(lng_netpoll *np);
int lng_netpoll_polling(lng_netpoll *np);
/* For the scheduler's choice of who polls (sched_wake.c): the worker that
   owns the poll (< 0: none, or not a worker), the worker it is asked to
   leave it to (< 0: none), and asking (only if the request is `expect`,
   -1 for none; worker -1 withdraws it). */
int lng_netpoll_owner(lng_netpoll *np);
int lng_netpoll_handoff(lng_netpoll *np);
void lng_netpoll_set_handoff(lng_netpoll *np, int worker, int expect);

/* ---- registered fds ---- */

/* Registers fd (made O_NONBLOCK here), which the pollfd owns from now on:
   lng_pollfd_close closes it. NULL with errno set on failure (fd then
   left open, the caller's). */
lng_pollfd *lng_pollfd_open(lng_netpoll *np, int fd);
int lng_pollfd_fd(const lng_pollfd *pd);
/* Closed (lng_pollfd_close), or not. */
int lng_pollfd_closed(lng_pollfd *pd);

/* Takes the turn of direction dir (see above): OK, PARKED (iw queued),
   WOULDBLOCK (iw NULL and the turn is taken), CLOSED, or TIMEOUT (the
   deadline has passed). While held, the fd stays open. */
int lng_pollfd_acquire(lng_pollfd *pd, int dir, lng_iowait *iw);
/* Gives the turn back, to the first operation waiting for it. */
void lng_pollfd_release(lng_pollfd *pd, int dir, int self);
/* After EAGAIN: OK (readiness came meanwhile: try again), PARKED (iw
   queued until the fd is ready, closed or the deadline passes),
   WOULDBLOCK (iw NULL), CLOSED, TIMEOUT. */
int lng_pollfd_wait(lng_pollfd *pd, int dir, lng_iowait *iw);
/* Takes a parked wait back (an abort): 1 if it was still queued. */
int lng_pollfd_cancel(lng_iowait *iw);

/* A quick operation on the fd outside any turn (getsockname, shutdown,
   setsockopt): the fd, kept open until lng_pollfd_unuse, or -1 if closed. */
int lng_pollfd_use(lng_pollfd *pd);
void lng_pollfd_unuse(lng_pollfd *pd);

/* Closes: every wait ends with CLOSED at once, every later operation gets
   CLOSED, and the fd is closed as soon as no operation uses it. Any thread;
   idempotent; self is the calling worker or -1. */
void lng_pollfd_close(lng_pollfd *pd, int self);
/* Closes, and gives the record back: pd must not be used afterwards. */
void lng_pollfd_free(lng_pollfd *pd);

#endif
