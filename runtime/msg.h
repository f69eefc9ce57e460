/*
 * Messages: a value in flight between two goroutines (a channel value, a
 * spawn's function and arguments) as an owned byte buffer plus the runtime
 * objects it names. The runtime moves and frees messages without knowing
 * what the bytes mean; vm/copy.c defines the encoding.
 *
 * Small payloads live inline, so sending an integer allocates nothing.
 */
#ifndef LNG_MSG_H
#define LNG_MSG_H

#include <stddef.h>
#include <stdint.h>
#include "obj.h"

#define LNG_MSG_INLINE 24

typedef struct lng_msg {
  unsigned char *heap;      /* NULL while the bytes fit in inl */
  size_t len, cap;
  lng_obj **refs;           /* objects named by the bytes, one reference each */
  uint32_t nrefs, refcap;
  unsigned char inl[LNG_MSG_INLINE];
} lng_msg;

static inline void lng_msg_init(lng_msg *m) {
  m->heap = NULL; m->len = 0; m->cap = LNG_MSG_INLINE;
  m->refs = NULL; m->nrefs = m->refcap = 0;
}

static inline unsigned char *lng_msg_bytes(lng_msg *m) {
  return m->heap ? m->heap : m->inl;
}

static inline const unsigned char *lng_msg_cbytes(const lng_msg *m) {
  return m->heap ? m->heap : m->inl;
}

/* Grow so that n more bytes fit; returns a pointer to where they go, or NULL
   when memory is exhausted (the message is left as it was). */
unsigned char *lng_msg_reserve(lng_msg *m, size_t n);
int lng_msg_append(lng_msg *m, const void *p, size_t n);   /* 0 ok, -1 nomem */
/* Adds a reference the message now owns (the caller's ref is taken over);
   returns its index, or -1 when memory is exhausted (ref still the caller's). */
int lng_msg_addref(lng_msg *m, lng_obj *o);
/* Moves src into dst (dst must be free or uninitialised); src becomes empty. */
void lng_msg_move(lng_msg *dst, lng_msg *src);
/* Drops the bytes and every reference; m is empty and reusable afterwards. */
void lng_msg_free(lng_msg *m);

#endif
