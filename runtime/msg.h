/*
 * Messages: a value in flight between two goroutines (a channel value, a
 * spawn's function and arguments) as an owned byte buffer plus the runtime
 * objects it names. The runtime moves and frees messages without knowing
 * what the bytes mean; vm/wire.h defines the encoding.
 *
 * Small payloads live inline, so sending an integer allocates nothing.
 */
#ifndef LNG_MSG_H
#define LNG_MSG_H

#include <stddef.h>
#include <stdint.h>
#include "obj.h"

#define LNG_MSG_INLINE 24

/* 32 bytes: a channel's buffer holds one per slot and a goroutine record
   one while it waits, so the layout is tight. A message is inline (the
   bytes in inl, no refs) until it outgrows inl or names an object; then
   bytes and refs live out of line, until lng_msg_free. */
typedef struct lng_msg {
  uint32_t len;             /* bytes used */
  uint32_t ext;             /* 0: inline; 1: out of line (u.x) */
  union {
    unsigned char inl[LNG_MSG_INLINE];
    struct {
      unsigned char *bytes;
      lng_obj **refs;       /* room for a power of two (at least 4) of them */
      uint32_t cap, nrefs;
    } x;
  } u;
} lng_msg;

static inline void lng_msg_init(lng_msg *m) {
  m->len = 0;
  m->ext = 0;
}

static inline unsigned char *lng_msg_bytes(lng_msg *m) {
  return m->ext ? m->u.x.bytes : m->u.inl;
}

static inline const unsigned char *lng_msg_cbytes(const lng_msg *m) {
  return m->ext ? m->u.x.bytes : m->u.inl;
}

static inline uint32_t lng_msg_nrefs(const lng_msg *m) { return m->ext ? m->u.x.nrefs : 0; }
static inline lng_obj *lng_msg_ref(const lng_msg *m, uint32_t i) { return m->u.x.refs[i]; }

/* Grow so that n more bytes fit; returns a pointer to where they go, or NULL
   when memory is exhausted or the message would pass 4 GiB (the message is
   left as it was). */
unsigned char *lng_msg_reserve(lng_msg *m, size_t n);
int lng_msg_append(lng_msg *m, const void *p, size_t n);   /* 0 ok, -1 nomem */
/* Adds a reference the message now owns (the caller's ref is taken over);
   returns its index, or -1 when memory is exhausted (ref still the caller's). */
int lng_msg_addref(lng_msg *m, lng_obj *o);
/* A message packed into fixed room: a spawned goroutine's start message,
   in the record's space that its wait uses later. Its refs, then its bytes,
   are copied in, or into one block of their own when they do not fit; the
   sender frees the message's own storage at once, so a burst of spawns
   leaves no freed buffers behind and no buffer is freed on another thread. */
#define LNG_PACK_ROOM 88
typedef struct lng_msgpack {
  uint32_t len, nrefs;
  unsigned char *out;                  /* refs and bytes, or NULL: in `in` */
  _Alignas(8) unsigned char in[LNG_PACK_ROOM];
} lng_msgpack;

/* Packs m into p (m's references move over; m is left empty and freed).
   0, or -1 when memory is exhausted (then nothing changed). */
int lng_msgpack_set(lng_msgpack *p, lng_msg *m);
/* The same, but m keeps its storage, empty, for the next message: a
   spawner encodes every start message into one scratch message, and a
   spawn then costs no malloc and no free. */
int lng_msgpack_take(lng_msgpack *p, lng_msg *m);
/* A read-only message over p's contents, for decoding. It owns nothing:
   never free it; p stays valid until lng_msgpack_free. */
void lng_msgpack_view(const lng_msgpack *p, lng_msg *view);
void lng_msgpack_free(lng_msgpack *p);

/* Moves src into dst (dst must be free or uninitialised); src becomes empty. */
static inline void lng_msg_move(lng_msg *dst, lng_msg *src) {
  *dst = *src;
  lng_msg_init(src);
}

/* Makes dst (free or uninitialised) a copy of src, with references of its
   own: 0, or -1 when memory is exhausted (dst is then empty). */
int lng_msg_dup(lng_msg *dst, const lng_msg *src);
void lng_msg_free_ext(lng_msg *m);
/* Drops the bytes and every reference; m is empty and reusable afterwards. */
static inline void lng_msg_free(lng_msg *m) {
  if (m->ext) lng_msg_free_ext(m);
  else m->len = 0;
}

#endif
