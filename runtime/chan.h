/*
 * Channels: Go's semantics over owned messages. A channel is a waitable
 * object (waitable.h, whose rules it keeps): a buffered value is a message
 * in a ring, a blocked party is a waiter on the send or receive queue.
 */
#ifndef LNG_CHAN_H
#define LNG_CHAN_H

#include <pthread.h>
#include <stddef.h>
#include "obj.h"
#include "msg.h"
#include "waitable.h"

typedef struct lng_chan {
  lng_obj obj;
  lng_waitable wait;          /* queues LNG_WQ_RECV and LNG_WQ_SEND */
  size_t cap, len, head;      /* ring of cap messages, len in use from head */
  lng_msg *buf;
  int closed;
  /* Called once, after the channel is closed (a ticker stops itself). */
  void (*onclose)(struct lng_chan *c, void *ud);
  void *closeud;
} lng_chan;

/* Operations return an lng_res: OK, CLOSED, WOULDBLOCK or PARKED. */

/* A new channel with one reference held by the caller; NULL when out of memory. */
lng_chan *lng_chan_new(size_t cap);

/* Sends *m (moved out on OK). With w non-NULL and nobody ready, w->slot must
   point to the message, which the waiter then owns until woken; self is the
   calling worker or -1. */
int lng_chan_send(lng_chan *c, lng_msg *m, lng_waiter *w, int self);
/* Receives into *out (which must be empty). With w non-NULL and nothing
   ready, w->slot must be out; the value arrives there. */
int lng_chan_recv(lng_chan *c, lng_msg *out, lng_waiter *w, int self);
/* Closes: every receiver is woken with CLOSED, every sender too (its value
   stays in its slot). Returns CLOSED if it was already closed. */
int lng_chan_close(lng_chan *c, int self);
/* Takes a queued waiter back off the channel (select, timeouts); returns
   whether it was still queued. */
static inline int lng_chan_cancel(lng_chan *c, lng_waiter *w) {
  return lng_waitable_cancel(&c->wait, w);
}

/* The same from a plain C thread, which sleeps while it waits: timeout in
   seconds, < 0 forever, 0 not at all. WOULDBLOCK when the time ran out;
   on anything but OK a send leaves *m with the caller (see
   lng_waitable_cwait). */
int lng_chan_send_wait(lng_chan *c, lng_msg *m, double timeout);
int lng_chan_recv_wait(lng_chan *c, lng_msg *out, double timeout);

/* The non-waiting core of send and recv, for select: the caller holds
   c->wait's lock and wakes *wake (if set) after releasing it. */
int lng_chan_send_locked(lng_chan *c, lng_msg *m, lng_waiter **wake);
int lng_chan_recv_locked(lng_chan *c, lng_msg *out, lng_waiter **wake);

size_t lng_chan_len(lng_chan *c);
size_t lng_chan_cap(const lng_chan *c);

#endif
