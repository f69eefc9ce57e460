/*
 * The result codes of runtime/: one vocabulary for every operation on a
 * waitable object (channels, select, wait groups, mutexes, semaphores, polled fds)
 * and for the result a completer leaves in a waiter. The VM maps them to
 * Lua errors or the public LNG_* status codes at its edge.
 */
#ifndef LNG_RES_H
#define LNG_RES_H

typedef enum lng_res {
  LNG_RES_OK = 0,       /* done */
  LNG_RES_CLOSED,       /* send: the channel is closed; recv: closed and drained */
  LNG_RES_WOULDBLOCK,   /* no waiter given and the operation would wait; for
                           a C thread, the time ran out */
  LNG_RES_PARKED,       /* the waiter is queued: wait, then read w->result */
  LNG_RES_ABORTED,      /* a parked select was claimed by an abort */
  LNG_RES_NEGATIVE,     /* waitgroup add: the counter would drop below zero */
  LNG_RES_OVERFLOW,     /* waitgroup add: the counter would overflow */
  LNG_RES_UNLOCKED,     /* mutex unlock: it was not locked */
  LNG_RES_OVERRELEASE,  /* semaphore release: more units than it was made with */
  LNG_RES_TIMEOUT       /* an I/O wait (netpoll.h): its deadline passed */
} lng_res;

#endif
