/*
 * A shard's heap: every block its lua_State uses.
 *
 * A parked goroutine is a handful of small blocks (its thread, stack,
 * CallInfos, globals table), to each of which malloc adds 8 to 16 bytes
 * of header and rounding, and Lua allocates and frees at a high rate,
 * each time paying for malloc's generality. Lua tells the allocator the
 * size of every block it frees or resizes, so blocks need no header:
 * small ones are carved from 64 KiB chunks in size classes, and a block
 * given back goes on its class's free list, for the next block of that
 * class. Chunks go back to malloc only when the shard closes; large blocks
 * are malloc's own.
 *
 * The heap belongs to its shard, and a shard's lua_State runs on one
 * thread at a time (its worker; its creator before the workers start and
 * after they are joined): there are no locks here.
 */
#include <stdlib.h>
#include <string.h>
#include "alloc.h"

struct lng_block { lng_block *next; };   /* a free block */

/* A chunk starts with the link to the next one. Its blocks are multiples
   of 8 bytes, so they are only 8-aligned where malloc's are 16: that is
   all Lua asks for (LUAI_MAXALIGN: doubles, integers, pointers), and the
   bindings' userdata hold nothing wider. */
#define CHUNK_HEAD 16

#define large(n) (!LNG_ALLOC_SLAB || (n) > LNG_ALLOC_SMALL)

/* Classes: 16, 24 .. 128 (every 8 bytes: the 24-byte hash node and the
   56-byte table fit exactly), then 144 .. 1024 (every 16: a 720-byte
   initial stack wastes nothing, no string more than 15 bytes), then
   1088 .. 4096 (every 64: a message's kilobyte string, 1049 bytes as a
   Lua string, would otherwise be malloc's, at several hundred
   instructions a block each way). */
static inline int classof(size_t n) {          /* 1 <= n <= LNG_ALLOC_SMALL */
  if (n <= 128) return n <= 16 ? 0 : (int)((n + 7) >> 3) - 2;
  if (n <= 1024) return 15 + (int)((n - 129) >> 4);
  return 71 + (int)((n - 1025) >> 6);
}

static inline size_t classsize(int c) {
  return c < 15 ? (size_t)(c + 2) * 8 : c < 71 ? 128 + (size_t)(c - 14) * 16
                                              : 1024 + (size_t)(c - 70) * 64;
}

static inline void give(lng_alloc *a, void *p, int c) {
  lng_block *b = p;
  b->next = a->free[c];
  a->free[c] = b;
}

/* n spare bytes at p (a multiple of 8) become a block of the largest class
   they hold; less than 16 bytes stay unused until the heap is destroyed. */
static void spare(lng_alloc *a, char *p, size_t n) {
  if (n < 16) return;
  if (n > LNG_ALLOC_SMALL) n = LNG_ALLOC_SMALL;   /* (never: spares are shorter than a block) */
  give(a, p, n <= 128 ? (int)(n >> 3) - 2 : n <= 1024 ? 14 + (int)((n - 128) >> 4)
                                                      : 70 + (int)((n - 1024) >> 6));
}

static void *carve(lng_alloc *a, size_t sz) {
  if (a->left < sz) {
    char *ch = malloc(LNG_ALLOC_CHUNK);
    if (!ch) return NULL;
    spare(a, a->bump, a->left);
    *(void **)ch = a->chunks;
    a->chunks = ch;
    a->held += LNG_ALLOC_CHUNK;
    a->bump = ch + CHUNK_HEAD;
    a->left = LNG_ALLOC_CHUNK - CHUNK_HEAD;
  }
  char *p = a->bump;
  a->bump += sz;
  a->left -= sz;
  return p;
}

static void *get(lng_alloc *a, size_t n) {
  if (large(n)) {
    void *p = malloc(n);
    if (p) a->held += n;
    return p;
  }
  int c = classof(n);
  lng_block *b = a->free[c];
  if (b) {
    a->free[c] = b->next;
    return b;
  }
  return carve(a, classsize(c));
}

static void put(lng_alloc *a, void *p, size_t n) {
  if (large(n)) {
    free(p);
    a->held -= n;
  } else {
    give(a, p, classof(n));
  }
}

static void *resize(lng_alloc *a, void *p, size_t o, size_t n) {
  if (large(o) && large(n)) {
    void *q = realloc(p, n);
    if (q) a->held = a->held - o + n;
    return q;
  }
  if (!large(o) && !large(n) && classof(o) == classof(n)) return p;
  void *q = get(a, n);
  if (q == NULL) {
    /* Lua expects a shrink to succeed. Within the small classes it can:
       the block keeps its head, and its tail becomes a free block. (A
       large block cannot become a small one in place: it is malloc's.) */
    if (n < o && !large(o)) {
      spare(a, (char *)p + classsize(classof(n)), classsize(classof(o)) - classsize(classof(n)));
      return p;
    }
    return NULL;
  }
  memcpy(q, p, o < n ? o : n);
  put(a, p, o);
  return q;
}

/* Other threads only read `used` (go.stats): being its one writer, the
   heap's thread needs no read-modify-write to keep it exact. */
static inline void count(lng_alloc *a, size_t osize, size_t nsize) {
  size_t used = atomic_load_explicit(&a->used, memory_order_relaxed);
  atomic_store_explicit(&a->used, used - osize + nsize, memory_order_relaxed);
}

/* Everything but a small block's free and a new one from a free list,
   kept out of line so that those two stay a few instructions. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void *slow(lng_alloc *a, void *ptr, size_t osize, size_t nsize) {
  void *p = NULL;
  if (nsize == 0) {
    if (ptr) put(a, ptr, osize);
  } else {
    p = ptr ? resize(a, ptr, osize, nsize) : get(a, nsize);
    if (p == NULL) return NULL;
  }
  count(a, osize, nsize);
  return p;
}

void *lng_alloc_lua(void *ud, void *ptr, size_t osize, size_t nsize) {
  lng_alloc *a = ud;
  if (ptr == NULL) {
    if (nsize == 0) return NULL;      /* Lua frees empty arrays so */
    osize = 0;                        /* it told the kind of a new object */
    if (!large(nsize)) {
      int c = classof(nsize);
      lng_block *b = a->free[c];
      if (b) {
        a->free[c] = b->next;
        count(a, 0, nsize);
        return b;
      }
    }
  } else if (nsize == 0 && !large(osize)) {
    give(a, ptr, classof(osize));
    count(a, osize, 0);
    return NULL;
  }
  return slow(a, ptr, osize, nsize);
}

void lng_alloc_init(lng_alloc *a) {
  memset(a, 0, sizeof *a);
  atomic_init(&a->used, 0);
}

void lng_alloc_destroy(lng_alloc *a) {
  void *ch = a->chunks;
  while (ch) {
    void *next = *(void **)ch;
    free(ch);
    a->held -= LNG_ALLOC_CHUNK;
    ch = next;
  }
  size_t held = a->held;              /* large blocks nobody gave back */
  lng_alloc_init(a);
  a->held = held;
}
