/* Timer heap; see timer.h. */
#include <stdlib.h>
#include <time.h>
#include "timer.h"

enum { T_IDLE, T_PENDING, T_FIRING };

int64_t lng_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void lng_timers_init(lng_timers *ts) {
  pthread_mutex_init(&ts->mu, NULL);
  ts->heap = NULL;
  ts->n = ts->cap = 0;
  atomic_init(&ts->next, INT64_MAX);
  atomic_init(&ts->count, 0);
}

void lng_timers_free(lng_timers *ts) {
  for (int i = 0; i < ts->n; i++) {
    lng_timer *t = ts->heap[i];
    t->idx = -1;
    t->state = T_IDLE;
    if (t->drop) t->drop(t);
  }
  free(ts->heap);
  ts->heap = NULL;
  ts->n = 0;
  pthread_mutex_destroy(&ts->mu);
}

static void place(lng_timers *ts, int i, lng_timer *t) {
  ts->heap[i] = t;
  t->idx = i;
}

static void up(lng_timers *ts, int i) {
  lng_timer *t = ts->heap[i];
  while (i > 0) {
    int p = (i - 1) / 2;
    if (ts->heap[p]->due <= t->due) break;
    place(ts, i, ts->heap[p]);
    i = p;
  }
  place(ts, i, t);
}

static void down(lng_timers *ts, int i) {
  lng_timer *t = ts->heap[i];
  for (;;) {
    int c = 2 * i + 1;
    if (c >= ts->n) break;
    if (c + 1 < ts->n && ts->heap[c + 1]->due < ts->heap[c]->due) c++;
    if (t->due <= ts->heap[c]->due) break;
    place(ts, i, ts->heap[c]);
    i = c;
  }
  place(ts, i, t);
}

static void remove_at(lng_timers *ts, int i) {
  lng_timer *t = ts->heap[i];
  lng_timer *last = ts->heap[--ts->n];
  t->idx = -1;
  if (i < ts->n) {
    place(ts, i, last);
    up(ts, i);
    down(ts, last->idx);
  }
}

static void publish_next(lng_timers *ts) {
  atomic_store(&ts->next, ts->n ? ts->heap[0]->due : INT64_MAX);
}

static int push(lng_timers *ts, lng_timer *t) {
  if (ts->n == ts->cap) {
    int cap = ts->cap ? ts->cap * 2 : 16;
    lng_timer **h = realloc(ts->heap, (size_t)cap * sizeof *h);
    if (!h) return -1;
    ts->heap = h;
    ts->cap = cap;
  }
  t->state = T_PENDING;
  place(ts, ts->n++, t);
  up(ts, t->idx);
  return 0;
}

int lng_timers_add(lng_timers *ts, lng_timer *t) {
  t->dead = 0;
  pthread_mutex_lock(&ts->mu);
  int r = push(ts, t);
  if (r == 0) {
    atomic_fetch_add(&ts->count, 1);
    publish_next(ts);
  }
  pthread_mutex_unlock(&ts->mu);
  return r;
}

int lng_timers_del(lng_timers *ts, lng_timer *t) {
  pthread_mutex_lock(&ts->mu);
  int was = t->state == T_PENDING;
  if (was) {
    remove_at(ts, t->idx);
    t->state = T_IDLE;
    publish_next(ts);
    atomic_fetch_sub(&ts->count, 1);
  } else if (t->state == T_FIRING) {
    t->dead = 1;
  }
  pthread_mutex_unlock(&ts->mu);
  return was;
}

int lng_timers_run(lng_timers *ts, int self) {
  int fired = 0;
  /* One reading of the clock for the whole pass: a ticker re-armed during
     it is due after `now`, so a tiny period cannot keep the pass going. */
  int64_t now = lng_now_ns();
  for (;;) {
    if (atomic_load(&ts->next) > now) break;
    pthread_mutex_lock(&ts->mu);
    if (ts->n == 0 || ts->heap[0]->due > now) {
      pthread_mutex_unlock(&ts->mu);
      break;
    }
    lng_timer *t = ts->heap[0];
    remove_at(ts, 0);
    int repeat = t->period > 0;
    t->state = repeat ? T_FIRING : T_IDLE;
    publish_next(ts);
    pthread_mutex_unlock(&ts->mu);
    t->fire(t, self, now);              /* a one-shot t may be gone from here on */
    fired++;
    if (repeat) {
      pthread_mutex_lock(&ts->mu);
      int drop = t->dead;
      if (!drop) {
        /* Ticks missed by a late runner are dropped, as Go's tickers do. */
        t->due += t->period;
        if (t->due <= now) t->due = now + t->period;
        if (push(ts, t) != 0) drop = 1;
        publish_next(ts);
      }
      if (drop) t->state = T_IDLE;
      pthread_mutex_unlock(&ts->mu);
      if (!drop) continue;
      atomic_fetch_sub(&ts->count, 1);
      if (t->drop) t->drop(t);
    } else {
      atomic_fetch_sub(&ts->count, 1);
    }
  }
  return fired;
}
