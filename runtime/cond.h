/*
 * The small idioms around pthread condition variables that the runtime
 * repeats: set-up on the monotonic clock, a signal under the sleeper's
 * mutex, and a deadline as a timespec.
 */
#ifndef LNG_COND_H
#define LNG_COND_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

/* Timed waits on cv measure CLOCK_MONOTONIC: a deadline must not move when
   someone sets the wall clock. */
static inline void lng_cond_init_mono(pthread_cond_t *cv) {
  pthread_condattr_t a;
  pthread_condattr_init(&a);
  pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
  pthread_cond_init(cv, &a);
  pthread_condattr_destroy(&a);
}

/* Signals (or broadcasts on) cv with mu held: a sleeper that has checked
   its condition under mu but not yet waited cannot miss it. */
static inline void lng_cond_signal(pthread_mutex_t *mu, pthread_cond_t *cv) {
  pthread_mutex_lock(mu);
  pthread_cond_signal(cv);
  pthread_mutex_unlock(mu);
}

static inline void lng_cond_broadcast(pthread_mutex_t *mu, pthread_cond_t *cv) {
  pthread_mutex_lock(mu);
  pthread_cond_broadcast(cv);
  pthread_mutex_unlock(mu);
}

/* The time `seconds` (>= 0) from now on clock clk, for a timed wait. The
   whole seconds are added apart, so that a huge timeout cannot overflow
   a count of nanoseconds. */
static inline struct timespec lng_deadline(clockid_t clk, double seconds) {
  struct timespec ts;
  clock_gettime(clk, &ts);
  time_t whole = (time_t)seconds;
  ts.tv_sec += whole;
  ts.tv_nsec += (long)((seconds - (double)whole) * 1e9);
  if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
  return ts;
}

/* A monotonic time in nanoseconds (lng_now_ns) as a timespec. */
static inline struct timespec lng_timespec_ns(int64_t ns) {
  return (struct timespec){ (time_t)(ns / 1000000000), (long)(ns % 1000000000) };
}

#endif
