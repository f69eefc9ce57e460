/*
 * The scheduler's lifecycle (creating, starting, stopping and freeing the
 * workers), the program outcome, and the figures; see sched.h, and
 * sched_int.h for how the rest is laid out.
 */
#include <stdlib.h>
#include <string.h>
#include "../include/lungo.h"
#include "sched_int.h"
#include "cond.h"

/* ---- outcome ---- */

static void stop_all(lng_sched *s) {
  atomic_store(&s->stopping, 1);
  lng_monitor_wake(s);
  for (int i = 0; i < s->n; i++) lng_worker_wake(&s->w[i]);
}

void lng_sched_fail(lng_sched *s, int status, int exitcode, const char *msg) {
  pthread_mutex_lock(&s->outmu);
  int first = !s->done;
  if (first) {
    s->done = 1;
    s->status = status;
    s->exitcode = exitcode;
    s->message = msg ? strdup(msg) : NULL;
    pthread_cond_broadcast(&s->outcv);
  }
  pthread_mutex_unlock(&s->outmu);
  if (first) stop_all(s);
}

void lng_sched_set_service(lng_sched *s, int on) { s->service = on; }

/* ---- lifecycle ---- */

lng_sched *lng_sched_new(int nworkers, const lng_vmops *ops, void *ud) {
  if (nworkers < 1) return NULL;
  lng_sched *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->w = calloc((size_t)nworkers, sizeof *s->w);
  if (!s->w) { free(s); return NULL; }
  for (int i = 0; i < nworkers; i++)
    if (!(s->w[i].peek = calloc((size_t)nworkers, sizeof *s->w[i].peek))) {
      while (i-- > 0) free(s->w[i].peek);
      free(s->w);
      free(s);
      return NULL;
    }
  s->n = nworkers;
  /* (without a pool, big buffers are malloc's) */
  s->bigpool = lng_bigpool_new();
  lng_bufdepot_init(&s->bufdepot);
  s->ops = ops;
  s->ud = ud;
  atomic_init(&s->nextid, 1);
  pthread_mutex_init(&s->outmu, NULL);
  pthread_mutex_init(&s->gmu, NULL);
  pthread_cond_init(&s->outcv, NULL);
  lng_timers_init(&s->timers);
  pthread_mutex_init(&s->gatemu, NULL);
  pthread_cond_init(&s->gatecv, NULL);
  pthread_mutex_init(&s->monmu, NULL);
  lng_cond_init_mono(&s->moncv);
  pthread_mutex_init(&s->npmu, NULL);
  for (int i = 0; i < nworkers; i++) {
    worker *w = &s->w[i];
    w->s = s;
    w->index = i;
    pthread_mutex_init(&w->mu, NULL);
    lng_cond_init_mono(&w->cv);
    pthread_mutex_init(&w->freshmu, NULL);
  }
  return s;
}

static void open_gate(lng_sched *s) {
  pthread_mutex_lock(&s->gatemu);
  s->gateopen = 1;
  pthread_cond_broadcast(&s->gatecv);
  pthread_mutex_unlock(&s->gatemu);
}

int lng_sched_start(lng_sched *s) {
  for (int i = 0; i < s->n; i++) {
    if (pthread_create(&s->w[i].thread, NULL, lng_worker_main, &s->w[i]) != 0) {
      stop_all(s);                 /* the started ones leave at the gate */
      open_gate(s);
      for (int j = 0; j < i; j++) pthread_join(s->w[j].thread, NULL);
      s->joined = 1;
      return -1;
    }
  }
  open_gate(s);
  s->started = 1;
  if (pthread_create(&s->monitor, NULL, lng_monitor_main, s) == 0) s->monstarted = 1;
  return 0;
}

static void join_all(lng_sched *s) {
  if (!s->started || s->joined) return;
  stop_all(s);
  for (int i = 0; i < s->n; i++) {
    /* A worker deep in a goroutine that never yields is nudged until it
       lets go (the VM's interrupt, see lng_sched_set_nudge). */
    for (;;) {
      struct timespec ts = lng_deadline(CLOCK_REALTIME, 0.02);   /* (pthread_timedjoin_np's clock) */
      if (pthread_timedjoin_np(s->w[i].thread, NULL, &ts) == 0) break;
      if (s->nudge) s->nudge(s->ud, i);
    }
  }
  if (s->monstarted) pthread_join(s->monitor, NULL);
  s->joined = 1;
}

void lng_sched_set_nudge(lng_sched *s, void (*nudge)(void *ud, int worker)) { s->nudge = nudge; }

int lng_sched_wait(lng_sched *s) {
  pthread_mutex_lock(&s->outmu);
  while (!s->done) pthread_cond_wait(&s->outcv, &s->outmu);
  pthread_mutex_unlock(&s->outmu);
  /* A deadlock leaves every worker idle, so joining is quick and the report
     may read the parked goroutines' stacks. Other outcomes return at once:
     a goroutine still computing elsewhere must not delay a failure. */
  if (s->status == LNG_DEADLOCK && !s->message) {
    join_all(s);
    s->message = lng_sched_deadlock_report(s);
  }
  return s->status;
}

int lng_sched_status(lng_sched *s) {
  pthread_mutex_lock(&s->outmu);
  int st = s->done ? s->status : LNG_OK;
  pthread_mutex_unlock(&s->outmu);
  return st;
}

int lng_sched_exitcode(lng_sched *s) { return s->exitcode; }
const char *lng_sched_message(lng_sched *s) { return s->message ? s->message : ""; }
int lng_sched_stopping(lng_sched *s) { return atomic_load(&s->stopping); }
int lng_sched_nworkers(const lng_sched *s) { return s->n; }

int lng_sched_thread(lng_sched *s, int i, pthread_t *t) {
  if (!s->started || s->joined || i < 0 || i >= s->n) return -1;
  *t = s->w[i].thread;
  return 0;
}
int64_t lng_sched_live(lng_sched *s) { return atomic_load(&s->live); }
int64_t lng_sched_spawned(lng_sched *s) { return atomic_load(&s->spawned); }

int64_t lng_sched_worker_count(lng_sched *s, int i) {
  int64_t st = (int64_t)atomic_load_explicit(&s->w[i].nstarted, memory_order_acquire);
  int64_t fin = (int64_t)atomic_load_explicit(&s->w[i].nfinished, memory_order_acquire);
  return st > fin ? st - fin : 0;
}

/* Every goroutine g moves its counters in this order, each step
   happening before the next: live+1 (spawn), nstarted+1 on its worker,
   nfinished+1 on that worker, live-1 (finish). Reading every nstarted,
   then live, then every nfinished makes sum(per_worker) <= live: a
   goroutine that per_worker[i] = nstarted - nfinished can count was
   started before nstarted was read and not finished when nfinished was,
   so its live+1 is seen and its live-1 is not; it is one of the `live`.
   Goroutines that start and end between the two reads only lower
   nstarted - nfinished (clamped at 0, which keeps the bound since the
   count it undershoots is >= 0). The figures are then exact at rest, and
   under churn per_worker may undercount but never exceeds live: no lock,
   and the hot paths keep one plain store per start and per end. */
int64_t lng_sched_stats(lng_sched *s, int64_t *per_worker) {
  for (int i = 0; i < s->n; i++)
    per_worker[i] = (int64_t)atomic_load_explicit(&s->w[i].nstarted, memory_order_acquire);
  int64_t live = atomic_load(&s->live);
  for (int i = 0; i < s->n; i++) {
    int64_t fin = (int64_t)atomic_load_explicit(&s->w[i].nfinished, memory_order_acquire);
    per_worker[i] = per_worker[i] > fin ? per_worker[i] - fin : 0;
  }
  return live;
}

void lng_sched_free(lng_sched *s) {
  if (!s) return;
  join_all(s);
  /* The poller stops waking anyone before goroutine records go: a socket
     a dropped goroutine held may close meanwhile (its shard's garbage). */
  lng_netpoll *np = atomic_load(&s->np);
  if (np) lng_netpoll_stop(np);
  for (int i = 0; i < s->n; i++) {
    worker *w = &s->w[i];
    lng_worker_free_gs(w);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->freshmu);
    free(w->peek);
  }
  for (lng_g *g = s->gfree, *next; g; g = next) {
    next = g->next;
    free(g);
  }
  pthread_mutex_destroy(&s->gmu);
  lng_timers_free(&s->timers);
  /* (after the timers: a polled fd's pending deadline, forgotten there,
     lives in the poller's records) */
  lng_netpoll_free(np);
  pthread_mutex_destroy(&s->npmu);
  pthread_mutex_destroy(&s->gatemu);
  pthread_cond_destroy(&s->gatecv);
  pthread_mutex_destroy(&s->monmu);
  pthread_cond_destroy(&s->moncv);
  pthread_mutex_destroy(&s->outmu);
  pthread_cond_destroy(&s->outcv);
  free(s->message);
  /* messages still held elsewhere (a channel C holds) keep the pool alive */
  lng_bigpool_release(s->bigpool);
  lng_bufdepot_free(&s->bufdepot);
  free(s->w);
  free(s);
}
