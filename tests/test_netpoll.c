/*
 * Unit tests of the network poller (runtime/netpoll.h) alone: a scheduler
 * that is never started, C threads as waiters (their own condition
 * variables), the test thread polling and running timers by hand. What
 * goroutines see of it is tested through Lua (tests/lua/net_*.lua).
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>
#include "lungo.h"
#include "../runtime/netpoll.h"
#include "../runtime/sched_int.h"
#include "util.h"

static lng_runres nop_run(void *ud, int worker, lng_g *g) { (void)ud; (void)worker; (void)g; return LNG_RUN_DONE; }
static void nop_drop(void *ud, int worker, lng_g *g) { (void)ud; (void)worker; (void)g; }
static void nop_describe(void *ud, int worker, lng_g *g, char *buf, size_t n) {
  (void)ud; (void)worker; (void)g; if (n) buf[0] = 0;
}
static const lng_vmops nops = { nop_run, nop_drop, nop_describe, 0, NULL };

typedef struct fixture {
  lng_sched *s;
  lng_netpoll *np;
  int sv[2];
  lng_pollfd *pd;
} fixture;

static void setup(fixture *f) {
  f->s = lng_sched_new(1, &nops, NULL);
  cr_assert_not_null(f->s);
  f->np = lng_sched_netpoll(f->s);
  cr_assert_not_null(f->np);
  cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, f->sv), 0);
  f->pd = lng_pollfd_open(f->np, f->sv[0]);
  cr_assert_not_null(f->pd);
  cr_assert(lng_netpoll_active(f->np));
}

static void teardown(fixture *f) {
  if (f->pd) lng_pollfd_free(f->pd);
  close(f->sv[1]);
  lng_sched_free(f->s);
}

/* A C thread's wait: its iowait and condition variable. */
typedef struct cwaiter {
  lng_iowait iw;
  lng_cwait cw;
} cwaiter;

static void cw_init(cwaiter *c, int64_t deadline) {
  memset(c, 0, sizeof *c);
  lng_cwait_init(&c->cw);
  c->iw.w.cw = &c->cw;
  c->iw.deadline = deadline;
}

/* Polls until c is woken (or 10 s pass); its result, or -1. */
static int poll_until(fixture *f, cwaiter *c) {
  double end = now_sec() + 10;
  while (now_sec() < end) {
    lng_netpoll_poll(f->np, 20 * 1000000, -1);
    lng_timers_run(&f->s->timers, -1);
    if (lng_cwait_sleep(&c->cw, 0.001)) return c->iw.w.result;
  }
  return -1;
}

Test(netpoll, wait_then_ready) {
  fixture f;
  setup(&f);
  cwaiter c;
  cw_init(&c, 0);
  char b;
  cr_assert_eq(lng_pollfd_acquire(f.pd, LNG_POLL_READ, &c.iw), LNG_RES_OK);
  cr_assert_eq(read(f.sv[0], &b, 1), -1);           /* nothing yet: EAGAIN */
  int r = lng_pollfd_wait(f.pd, LNG_POLL_READ, &c.iw);
  if (r == LNG_RES_OK) r = lng_pollfd_wait(f.pd, LNG_POLL_READ, &c.iw);  /* the first edge (writable) may say readable */
  cr_assert_eq(r, LNG_RES_PARKED);
  cr_assert_eq(atomic_load(&f.s->iowait), 1, "a parked wait is a possible waker");
  cr_assert_eq(write(f.sv[1], "x", 1), 1);
  cr_assert_eq(poll_until(&f, &c), LNG_RES_OK);
  cr_assert_eq(atomic_load(&f.s->iowait), 0);
  cr_assert_eq(read(f.sv[0], &b, 1), 1);
  lng_pollfd_release(f.pd, LNG_POLL_READ, -1);
  lng_cwait_destroy(&c.cw);
  teardown(&f);
}

Test(netpoll, would_block_without_waiter) {
  fixture f;
  setup(&f);
  cr_assert_eq(lng_pollfd_acquire(f.pd, LNG_POLL_READ, NULL), LNG_RES_OK);
  cr_assert_eq(lng_pollfd_acquire(f.pd, LNG_POLL_READ, NULL), LNG_RES_WOULDBLOCK, "the turn is taken");
  /* drain a readiness flag the registration may have set */
  lng_pollfd_wait(f.pd, LNG_POLL_READ, NULL);
  cr_assert_eq(lng_pollfd_wait(f.pd, LNG_POLL_READ, NULL), LNG_RES_WOULDBLOCK);
  lng_pollfd_release(f.pd, LNG_POLL_READ, -1);
  cr_assert_eq(lng_pollfd_acquire(f.pd, LNG_POLL_READ, NULL), LNG_RES_OK);
  lng_pollfd_release(f.pd, LNG_POLL_READ, -1);
  teardown(&f);
}

Test(netpoll, turns_are_fifo) {
  fixture f;
  setup(&f);
  cwaiter a, b;
  cw_init(&a, 0);
  cw_init(&b, 0);
  cr_assert_eq(lng_pollfd_acquire(f.pd, LNG_POLL_WRITE, NULL), LNG_RES_OK);
  cr_assert_eq(lng_pollfd_acquire(f.pd, LNG_POLL_WRITE, &a.iw), LNG_RES_PARKED);
  cr_assert_eq(lng_pollfd_acquire(f.pd, LNG_POLL_WRITE, &b.iw), LNG_RES_PARKED);
  lng_pollfd_release(f.pd, LNG_POLL_WRITE, -1);
  cr_assert(lng_cwait_sleep(&a.cw, 5), "the first waiter gets the turn");
  cr_assert_eq(a.iw.w.result, LNG_RES_OK);
  cr_assert_not(lng_cwait_sleep(&b.cw, 0.01), "the second still waits");
  lng_pollfd_release(f.pd, LNG_POLL_WRITE, -1);
  cr_assert(lng_cwait_sleep(&b.cw, 5));
  lng_pollfd_release(f.pd, LNG_POLL_WRITE, -1);
  lng_cwait_destroy(&a.cw);
  lng_cwait_destroy(&b.cw);
  teardown(&f);
}

Test(netpoll, close_wakes_everyone_and_closes_fd_after_last_user) {
  fixture f;
  setup(&f);
  cwaiter rd, turn;
  cw_init(&rd, 0);
  cw_init(&turn, 0);
  int fd = lng_pollfd_fd(f.pd);
  cr_assert_eq(lng_pollfd_acquire(f.pd, LNG_POLL_READ, NULL), LNG_RES_OK);
  lng_pollfd_wait(f.pd, LNG_POLL_READ, NULL);
  cr_assert_eq(lng_pollfd_wait(f.pd, LNG_POLL_READ, &rd.iw), LNG_RES_PARKED);
  cr_assert_eq(lng_pollfd_acquire(f.pd, LNG_POLL_READ, &turn.iw), LNG_RES_PARKED);
  lng_pollfd_close(f.pd, -1);
  cr_assert(lng_cwait_sleep(&rd.cw, 5));
  cr_assert(lng_cwait_sleep(&turn.cw, 5));
  cr_assert_eq(rd.iw.w.result, LNG_RES_CLOSED);
  cr_assert_eq(turn.iw.w.result, LNG_RES_CLOSED);
  cr_assert_eq(atomic_load(&f.s->iowait), 0);
  cr_assert_neq(fcntl(fd, F_GETFD), -1, "the fd stays open while its turn is held");
  cr_assert_eq(lng_pollfd_acquire(f.pd, LNG_POLL_WRITE, NULL), LNG_RES_CLOSED);
  cr_assert_eq(lng_pollfd_use(f.pd), -1);
  lng_pollfd_release(f.pd, LNG_POLL_READ, -1);
  cr_assert_eq(fcntl(fd, F_GETFD), -1, "closed with its last user gone");
  cr_assert_not(lng_netpoll_active(f.np));
  lng_cwait_destroy(&rd.cw);
  lng_cwait_destroy(&turn.cw);
  teardown(&f);
}

Test(netpoll, deadline_times_out) {
  fixture f;
  setup(&f);
  cwaiter c, late;
  cw_init(&c, lng_now_ns() + 20 * 1000000);
  cw_init(&late, lng_now_ns() - 1);
  cr_assert_eq(lng_pollfd_acquire(f.pd, LNG_POLL_READ, NULL), LNG_RES_OK);
  lng_pollfd_wait(f.pd, LNG_POLL_READ, NULL);
  cr_assert_eq(lng_pollfd_wait(f.pd, LNG_POLL_READ, &late.iw), LNG_RES_TIMEOUT, "past deadline: at once");
  cr_assert_eq(lng_pollfd_wait(f.pd, LNG_POLL_READ, &c.iw), LNG_RES_PARKED);
  cr_assert_eq(atomic_load(&f.s->timers.count), 1, "one timer armed");
  cr_assert_eq(poll_until(&f, &c), LNG_RES_TIMEOUT);
  cr_assert_eq(atomic_load(&f.s->timers.count), 0);
  cr_assert_eq(atomic_load(&f.s->iowait), 0);
  lng_pollfd_release(f.pd, LNG_POLL_READ, -1);
  lng_cwait_destroy(&c.cw);
  lng_cwait_destroy(&late.cw);
  teardown(&f);
}

Test(netpoll, close_disarms_deadline) {
  fixture f;
  setup(&f);
  cwaiter c;
  cw_init(&c, lng_now_ns() + (int64_t)60 * 1000000000);
  lng_pollfd_wait(f.pd, LNG_POLL_READ, NULL);
  cr_assert_eq(lng_pollfd_wait(f.pd, LNG_POLL_READ, &c.iw), LNG_RES_PARKED);
  cr_assert_eq(atomic_load(&f.s->timers.count), 1);
  lng_pollfd_close(f.pd, -1);
  cr_assert(lng_cwait_sleep(&c.cw, 5));
  cr_assert_eq(c.iw.w.result, LNG_RES_CLOSED);
  cr_assert_eq(atomic_load(&f.s->timers.count), 0, "the timer is taken back");
  lng_cwait_destroy(&c.cw);
  teardown(&f);
}

/* An event fetched for a record's old incarnation must not wake a wait
   of its new one (close vs fd reuse): the record is reused at once (the
   free list is LIFO), and its sequence number tells the two apart. */
Test(netpoll, stale_event_after_reuse) {
  fixture f;
  setup(&f);
  lng_pollfd *old = f.pd;
  cr_assert_eq(write(f.sv[1], "x", 1), 1);          /* an event for the old incarnation */
  lng_pollfd_free(old);
  close(f.sv[1]);
  cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, f.sv), 0);
  f.pd = lng_pollfd_open(f.np, f.sv[0]);
  cr_assert_eq(f.pd, old, "the record is reused");
  cwaiter c;
  cw_init(&c, 0);
  lng_netpoll_poll(f.np, 0, -1);                     /* the new fd's first edges */
  lng_pollfd_wait(f.pd, LNG_POLL_READ, NULL);
  cr_assert_eq(lng_pollfd_wait(f.pd, LNG_POLL_READ, &c.iw), LNG_RES_PARKED);
  lng_netpoll_poll(f.np, 10 * 1000000, -1);
  cr_assert_not(lng_cwait_sleep(&c.cw, 0.01), "nothing to read on the new fd: still waiting");
  cr_assert_eq(lng_pollfd_cancel(&c.iw), 1);
  cr_assert_eq(atomic_load(&f.s->iowait), 0);
  lng_cwait_destroy(&c.cw);
  teardown(&f);
}

static void *breaker(void *arg) {
  sleep_ms(20);
  lng_netpoll_break(arg);
  return NULL;
}

Test(netpoll, break_ends_a_blocked_poll) {
  fixture f;
  setup(&f);
  lng_netpoll_poll(f.np, 0, -1);                     /* the first edges */
  pthread_t t;
  pthread_create(&t, NULL, breaker, f.np);
  cr_assert_eq(lng_netpoll_poll(f.np, -1, -1), 0);   /* returns: no goroutine woken */
  pthread_join(t, NULL);
  teardown(&f);
}
