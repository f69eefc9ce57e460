/*
 * Unit tests of the pool of blocking-call threads (runtime/blockpool.h)
 * alone: a scheduler that is never started (the pool only counts holds on
 * it), C threads as waiters. Threads start on demand, lanes do not hold
 * each other up, idle threads leave, a cancel or the pool's end stops a
 * job waiting for a descriptor, and getaddrinfo runs on the DNS lane.
 * What goroutines see of it is tested through Lua (tests/lua/proc_*.lua).
 */
#include <criterion/criterion.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>
#include "lungo.h"
#include "../runtime/blockpool.h"
#include "../runtime/sched_int.h"
#include "util.h"

static lng_runres nop_run(void *ud, int worker, lng_g *g) { (void)ud; (void)worker; (void)g; return LNG_RUN_DONE; }
static void nop_drop(void *ud, int worker, lng_g *g) { (void)ud; (void)worker; (void)g; }
static void nop_describe(void *ud, int worker, lng_g *g, char *buf, size_t n) {
  (void)ud; (void)worker; (void)g; if (n) buf[0] = 0;
}
static const lng_vmops nops = { nop_run, nop_drop, nop_describe, 0, NULL };

/* A job that waits for a pipe to be readable (or stopped): r is what
   lng_bjob_wait_fd said; with its C waiter. */
typedef struct tjob {
  lng_bjob job;
  int fd;
  atomic_int started, r;
  lng_waiter w;
  lng_cwait cw;
} tjob;

static void tjob_run(lng_bjob *job) {
  tjob *t = (tjob *)job;
  atomic_store(&t->started, 1);
  atomic_store(&t->r, lng_bjob_wait_fd(job, t->fd, POLLIN, -1));
}

static void tjob_free(lng_bjob *job) { (void)job; }   /* on the test's stack */

static void tjob_init(tjob *t, int fd, int lane) {
  memset(t, 0, sizeof *t);
  t->fd = fd;
  t->job.run = tjob_run;
  t->job.free = tjob_free;
  t->job.lane = lane;
  t->job.abortable = 1;
  atomic_init(&t->r, 99);
  lng_bjob_init(&t->job);
  lng_cwait_init(&t->cw);
  t->w.cw = &t->cw;
}

static void wait_started(tjob *t) {
  double end = now_sec() + 30;
  while (!atomic_load(&t->started) && now_sec() < end) sleep_ms(1);
  cr_assert(atomic_load(&t->started), "the job never started");
}

Test(blockpool, lanes_threads_on_demand_idle_exit) {
  lng_sched *s = lng_sched_new(1, &nops, NULL);
  lng_bpool *p = lng_bpool_new(s);
  cr_assert_not_null(p);
  lng_bpool_set_idle(p, 0.05);
  for (int l = 0; l < LNG_LANE_N; l++) cr_assert_eq(lng_bpool_threads(p, l), 0, "threads before any job");
  int fds[2];
  cr_assert_eq(pipe(fds), 0);
  /* the DNS lane full of jobs that wait (more than its threads) */
  enum { NDNS = 6 };
  tjob dns[NDNS];
  for (int i = 0; i < NDNS; i++) {
    tjob_init(&dns[i], fds[0], LNG_LANE_DNS);
    cr_assert_eq(lng_bpool_submit(p, &dns[i].job, &dns[i].w), LNG_RES_PARKED);
  }
  wait_started(&dns[0]);
  cr_assert_leq(lng_bpool_threads(p, LNG_LANE_DNS), 4, "a lane keeps to its few threads");
  cr_assert(atomic_load(&s->holds) == NDNS, "each job in flight holds the scheduler");
  /* a general job is not held up by them */
  int gfds[2];
  cr_assert_eq(pipe(gfds), 0);
  tjob g;
  tjob_init(&g, gfds[0], LNG_LANE_GENERAL);
  cr_assert_eq(write(gfds[1], "x", 1), 1);
  cr_assert_eq(lng_bpool_submit(p, &g.job, &g.w), LNG_RES_PARKED);
  cr_assert(lng_cwait_sleep(&g.cw, 30), "the general job did not complete while DNS jobs waited");
  cr_assert_eq(atomic_load(&g.r), 1);
  cr_assert_eq(g.w.result, LNG_RES_OK);
  /* the DNS jobs complete once their pipe is readable, the queued ones too */
  cr_assert_eq(write(fds[1], "x", 1), 1);
  for (int i = 0; i < NDNS; i++) {
    cr_assert(lng_cwait_sleep(&dns[i].cw, 30), "DNS job %d never completed", i);
    cr_assert_eq(atomic_load(&dns[i].r), 1);
  }
  double end = now_sec() + 30;
  while ((atomic_load(&s->holds) != 0 || lng_bpool_threads(p, LNG_LANE_DNS) ||
          lng_bpool_threads(p, LNG_LANE_GENERAL)) && now_sec() < end)
    sleep_ms(5);
  cr_assert_eq(atomic_load(&s->holds), 0, "holds left");
  cr_assert_eq(lng_bpool_threads(p, LNG_LANE_DNS), 0, "idle DNS threads did not leave");
  cr_assert_eq(lng_bpool_threads(p, LNG_LANE_GENERAL), 0, "idle general threads did not leave");
  /* a lane starts again after its threads left */
  tjob again;
  tjob_init(&again, fds[0], LNG_LANE_DNS);
  cr_assert_eq(lng_bpool_submit(p, &again.job, &again.w), LNG_RES_PARKED);
  cr_assert(lng_cwait_sleep(&again.cw, 30));
  lng_bpool_free(p);
  for (int i = 0; i < NDNS; i++) lng_cwait_destroy(&dns[i].cw);
  lng_cwait_destroy(&g.cw);
  lng_cwait_destroy(&again.cw);
  close(fds[0]); close(fds[1]); close(gfds[0]); close(gfds[1]);
  lng_sched_free(s);
}

Test(blockpool, cancel_and_free_stop_waiting_jobs) {
  lng_sched *s = lng_sched_new(1, &nops, NULL);
  lng_bpool *p = lng_bpool_new(s);
  int fds[2];
  cr_assert_eq(pipe(fds), 0);
  tjob a, b;
  tjob_init(&a, fds[0], LNG_LANE_WAIT);
  tjob_init(&b, fds[0], LNG_LANE_WAIT);
  cr_assert_eq(lng_bpool_submit(p, &a.job, &a.w), LNG_RES_PARKED);
  cr_assert_eq(lng_bpool_submit(p, &b.job, &b.w), LNG_RES_PARKED);
  wait_started(&a);
  wait_started(&b);
  /* a cancel takes the waiter back and ends the wait */
  cr_assert_eq(lng_bpool_cancel(&a.job, &a.w), 1);
  double end = now_sec() + 30;
  while (atomic_load(&a.r) == 99 && now_sec() < end) sleep_ms(1);
  cr_assert_eq(atomic_load(&a.r), -1, "the cancelled job's wait did not end");
  cr_assert_not(lng_cwait_sleep(&a.cw, 0.05), "a cancelled waiter was woken");
  cr_assert_eq(lng_bpool_cancel(&a.job, &a.w), 0, "cancel after the end");
  /* freeing the pool ends b's wait and joins its thread */
  lng_bpool_free(p);
  cr_assert_eq(atomic_load(&b.r), -1);
  cr_assert_eq(atomic_load(&s->holds), 0);
  lng_cwait_destroy(&a.cw);
  lng_cwait_destroy(&b.cw);
  close(fds[0]); close(fds[1]);
  lng_sched_free(s);
}

Test(blockpool, getaddrinfo_on_the_dns_lane) {
  lng_sched *s = lng_sched_new(1, &nops, NULL);
  lng_bpool *p = lng_bpool_new(s);
  struct addrinfo hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_flags = AI_NUMERICHOST;
  hints.ai_socktype = SOCK_STREAM;
  lng_gai_job *j = lng_gai_job_new("127.0.0.1", "80", &hints);
  cr_assert_not_null(j);
  lng_cwait cw;
  lng_cwait_init(&cw);
  lng_waiter w;
  memset(&w, 0, sizeof w);
  w.cw = &cw;
  cr_assert_eq(lng_bpool_submit(p, &j->job, &w), LNG_RES_PARKED);
  cr_assert(lng_cwait_sleep(&cw, 30));
  cr_assert_eq(j->err, 0, "getaddrinfo: %s", gai_strerror(j->err));
  cr_assert_not_null(j->res);
  cr_assert_eq(j->res->ai_family, AF_INET);
  lng_bjob_unref(&j->job);
  lng_cwait_destroy(&cw);
  lng_bpool_free(p);
  lng_sched_free(s);
}
