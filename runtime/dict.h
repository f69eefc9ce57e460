/*
 * Shared values: go.atomic (an integer every goroutine holding it sees)
 * and go.dict (a map shared the same way). Both are runtime objects that
 * travel by reference like channels; every operation is atomic.
 *
 * The dict is a hash striped over LNG_DICT_STRIPES independent tables,
 * each under its own short lock, so goroutines on different workers hit
 * different locks unless their keys share a stripe. Values are kept as
 * messages (msg.h: encoded once on the way in, copied out on every read)
 * or, for integers, as the number itself, which is what incr works on.
 * Keys are strings, integers and booleans, compared by value.
 */
#ifndef LNG_DICT_H
#define LNG_DICT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include "lock.h"
#include "msg.h"
#include "obj.h"

/* ---- atomic ---- */

typedef struct lng_atomic {
  lng_obj obj;
  atomic_llong v;
} lng_atomic;

/* A new atomic holding v (one reference, the caller's), or NULL. */
lng_atomic *lng_atomic_new(long long v);

/* ---- dict ---- */

#define LNG_DICT_STRIPES 64
#define LNG_DICT_KEYINLINE 16

enum { LNG_DKEY_STR, LNG_DKEY_INT, LNG_DKEY_BOOL };

/* A key as the caller gives it (a string is only borrowed). */
typedef struct lng_dkey {
  int type;                /* LNG_DKEY_* */
  long long i;             /* INT, BOOL (0 or 1) */
  const char *s;           /* STR: len bytes */
  size_t len;
} lng_dkey;

/* A value going in or out: an integer, or a message. */
typedef struct lng_dval {
  int isint;
  long long i;
  lng_msg msg;
} lng_dval;

typedef struct lng_dentry lng_dentry;

/* One cache line each: stripes locked by different workers do not share one. */
typedef struct lng_dstripe {
  _Alignas(64) lng_lock lock;
  uint32_t cap, n;         /* cap a power of two, or 0 */
  lng_dentry *tab;
} lng_dstripe;

typedef struct lng_dict {
  lng_obj obj;
  atomic_llong count;
  lng_dstripe stripe[LNG_DICT_STRIPES];
} lng_dict;

lng_dict *lng_dict_new(void);

/* The value at k into *out (a copy of its own): 1, 0 when absent, -1
   when out of memory. */
int lng_dict_get(lng_dict *d, const lng_dkey *k, lng_dval *out);
/* Sets k to *v, which the dict takes over (v is left empty); v NULL
   deletes k. 0, or -1 when out of memory (v is still the caller's). */
int lng_dict_set(lng_dict *d, const lng_dkey *k, lng_dval *v);
/* Sets k to *v only if k is absent: 1 (v taken over), 0 (k exists: v is
   still the caller's), -1 out of memory. */
int lng_dict_add(lng_dict *d, const lng_dkey *k, lng_dval *v);
/* Adds n to the integer at k (init + n when absent), wrapping as Lua's
   integers do; the new value in *out. 0; -1 out of memory; -2 when k
   holds a value that is not an integer. */
int lng_dict_incr(lng_dict *d, const lng_dkey *k, long long n, long long init, long long *out);
/* 1 if k was there and is gone, 0 if it was absent. */
int lng_dict_delete(lng_dict *d, const lng_dkey *k);
/* Entries now. */
long long lng_dict_len(lng_dict *d);
/* Every key, stripe by stripe (each stripe as one moment), as a block the
   caller frees: an array of *n keys whose strings live in the same block.
   NULL with *n == 0 when empty; NULL with *n == SIZE_MAX when out of memory. */
lng_dkey *lng_dict_keys(lng_dict *d, size_t *n);

#endif
