/*
 * Short locks: a test-and-test-and-set spinlock for critical sections of a
 * few dozen instructions that never block (a waitable object's queues and
 * state, waitable.h).
 * Uncontended it is one atomic exchange and one store, against a
 * pthread mutex's call, checks and CAS each way; a waiter spins briefly,
 * then yields its CPU, since on a small machine the holder may have been
 * descheduled.
 */
#ifndef LNG_LOCK_H
#define LNG_LOCK_H

#include <sched.h>
#include <stdatomic.h>

typedef struct lng_lock { atomic_int held; } lng_lock;

#define LNG_LOCK_INIT { 0 }

static inline void lng_lock_init(lng_lock *l) { atomic_init(&l->held, 0); }

static inline void lng_lock_slow(lng_lock *l) {
  for (unsigned spins = 0;; spins++) {
    while (atomic_load_explicit(&l->held, memory_order_relaxed)) {
      if (spins++ < 64) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
      } else {
        sched_yield();
      }
    }
    if (!atomic_exchange_explicit(&l->held, 1, memory_order_acquire)) return;
  }
}

static inline void lng_lock_acquire(lng_lock *l) {
  if (atomic_exchange_explicit(&l->held, 1, memory_order_acquire)) lng_lock_slow(l);
}

static inline void lng_lock_release(lng_lock *l) {
  atomic_store_explicit(&l->held, 0, memory_order_release);
}

#endif
