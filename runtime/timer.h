/*
 * Timers: a min-heap per runtime, run by the workers themselves (an idle
 * worker sleeps until the earliest one is due, a busy one checks between
 * goroutines). A timer is an embedded record with a callback; what firing
 * means (wake a sleeper, send the time on a channel) is the owner's business.
 */
#ifndef LNG_TIMER_H
#define LNG_TIMER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

typedef struct lng_sched lng_sched;
typedef struct lng_timer lng_timer;

struct lng_timer {
  int64_t due;          /* monotonic nanoseconds */
  int64_t period;       /* > 0: fire again every period (a ticker) */
  int idx;              /* place in the heap, or -1 */
  int state;            /* private to timer.c */
  int dead;             /* private to timer.c */
  /* Called on a worker with no lock held. A one-shot timer is finished by
     then: fire may free it, and the runtime does not touch it afterwards. */
  void (*fire)(lng_timer *t, int self, int64_t now);
  /* Frees a timer the runtime still holds: pending at shutdown, or a
     repeating one deleted while it was firing. NULL if the owner frees it. */
  void (*drop)(lng_timer *t);
  void *ud;
};

typedef struct lng_timers {
  pthread_mutex_t mu;
  lng_timer **heap;
  int n, cap;
  atomic_llong next;    /* due of the earliest, INT64_MAX when none */
  atomic_llong count;   /* pending or firing: each may still wake someone */
} lng_timers;

int64_t lng_now_ns(void);

void lng_timers_init(lng_timers *ts);
/* Frees what is still pending (through drop). */
void lng_timers_free(lng_timers *ts);
/* Adds t (due and period set by the caller); 0, or -1 when out of memory. */
int lng_timers_add(lng_timers *ts, lng_timer *t);
/* Takes t out: 1 if it was pending (the caller owns it again), 0 if it
   already fired, or is firing now (a repeating one is then dropped). */
int lng_timers_del(lng_timers *ts, lng_timer *t);
/* Fires every due timer; returns how many. */
int lng_timers_run(lng_timers *ts, int self);

#endif
