/*
 * Counting runnable goroutines, and deadlock detection; see sched_int.h.
 *
 * Deadlock detection needs no lock: `active` counts goroutines that are
 * running or runnable. A goroutine leaves it when it parks or ends and
 * re-enters it only through someone active (or, later, a timer or a C
 * thread), so the moment it drops to zero with goroutines still alive,
 * nothing can ever wake them.
 *
 * A goroutine that wakes another on its own worker and then parks (a
 * channel hand-off) leaves `active` as it was, so that pair of updates is
 * kept in the worker's `pend` instead of paying two atomic operations on a
 * line every worker writes: the running goroutine's own unit stays in
 * `active` until it parks or ends, which keeps `active` above zero while
 * `pend` is owed, and the worker settles `pend` as soon as the run returns.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../include/lungo.h"
#include "sched_int.h"

/* Called when `active` reached zero while goroutines are alive, and when
   the last pending timer or I/O wait went. A pending timer may still wake someone; the
   two checks pair up (each side updates its counter, then reads the other)
   so that the last of them to happen sees both at zero. */
void lng_sched_check_dead(lng_sched *s) {
  if (atomic_load(&s->timers.count) > 0 || atomic_load(&s->holds) > 0 ||
      atomic_load(&s->iowait) > 0) return;
  if (atomic_load(&s->active) > 0 || atomic_load(&s->live) == 0) return;
  lng_sched_fail(s, LNG_DEADLOCK, 2, NULL);
}

void lng_sched_park(lng_sched *s, lng_g *g, const char *reason) {
  g->u.park.reason = reason;
  worker *w = &s->w[g->worker];      /* (the calling thread's: g is running) */
  if (w->pend > 0) {                 /* it hands its unit to one it woke */
    atomic_store_explicit(&w->owed, --w->pend, memory_order_relaxed);
    return;
  }
  lng_sched_inactive(s);
}

int lng_sched_quiet(lng_sched *s) {
  return atomic_load(&s->active) == 0 && atomic_load(&s->timers.count) == 0 &&
         atomic_load(&s->iowait) == 0;
}

void lng_sched_iowait(lng_sched *s, int delta, int check) {
  if (atomic_fetch_add(&s->iowait, delta) + delta == 0 && delta < 0 && check)
    lng_sched_check_dead(s);
}

void lng_sched_iowait_worker(lng_sched *s, int worker, int delta) {
  atomic_fetch_add_explicit(&s->w[worker].niowait, delta, memory_order_relaxed);
  if (delta < 0) atomic_store_explicit(&s->w[worker].iolast, lng_now_ns(), memory_order_relaxed);
}

void lng_sched_hold(lng_sched *s, int delta) {
  if (atomic_fetch_add(&s->holds, delta) + delta == 0 && delta < 0) lng_sched_check_dead(s);
}

void lng_sched_unhold_nocheck(lng_sched *s) {
  atomic_fetch_sub(&s->holds, 1);
}

static int byid(const void *a, const void *b) {
  const lng_g *x = *(lng_g *const *)a, *y = *(lng_g *const *)b;
  return (x->id > y->id) - (x->id < y->id);
}

/* A header, then each blocked goroutine in id order: where it waits and
   where it was created. While the main goroutine lives, Go's wording;
   once it has returned "all goroutines are asleep" reads as if the program
   had not done its work, so the header says what happened: main returned
   and these were left behind. Workers are stopped. */
char *lng_sched_deadlock_report(lng_sched *s) {
  size_t n = 0, cap = 256, len = 0;
  for (int i = 0; i < s->n; i++)
    for (lng_g *g = s->w[i].all; g; g = g->allnext) n++;
  lng_g **v = malloc((n ? n : 1) * sizeof *v);
  char *out = malloc(cap);
  if (!v || !out) { free(v); free(out); return NULL; }
  n = 0;
  for (int i = 0; i < s->n; i++)
    for (lng_g *g = s->w[i].all; g; g = g->allnext) v[n++] = g;
  qsort(v, n, sizeof *v, byid);
  if (s->mainreturned)
    len = (size_t)snprintf(out, cap, "fatal error: main returned, but %zu goroutine%s blocked forever\n",
                           n, n == 1 ? " is" : "s are");
  else
    len = (size_t)snprintf(out, cap, "fatal error: all goroutines are asleep - deadlock!\n");
  for (size_t i = 0; i < n; i++) {
    char where[512], origin[512];
    where[0] = origin[0] = 0;
    s->ops->describe(s->ud, v[i]->worker, v[i], where, sizeof where);
    if (s->ops->origin) s->ops->origin(s->ud, v[i], origin, sizeof origin);
    const char *reason = v[i]->u.park.reason ? v[i]->u.park.reason : "runnable";
    size_t need = len + strlen(where) + strlen(reason) + strlen(origin) + 96;
    if (need > cap) {
      while (cap < need) cap *= 2;
      char *o = realloc(out, cap);
      if (!o) break;
      out = o;
    }
    len += (size_t)snprintf(out + len, cap - len, "\ngoroutine %lld [%s]:\n\t%s\n",
                            (long long)v[i]->id, reason, where);
    if (origin[0]) len += (size_t)snprintf(out + len, cap - len, "created by %s\n", origin);
  }
  free(v);
  return out;
}
