/*
 * Closure factories: a way to make many closures of one prototype without
 * loading its code again for each. The stock Lua API can only make a new
 * closure by loading code, and each load makes a new prototype (code,
 * constants, debug info: a few hundred bytes per goroutine). So, once per
 * function and shard, we load a small chunk equivalent to
 *
 *     return function(u1, ..., un) return <the function> end
 *
 * where <the function> is the dumped prototype with its upvalues rebound
 * to the chunk's parameters. Calling it makes a fresh closure of the one
 * shared prototype, with fresh upvalues that the copier then fills in.
 *
 * The chunk is written in Lua 5.4's dump format, which this file parses and
 * writes; anything that does not look exactly as expected is refused and
 * the caller falls back to loading the function itself.
 */
#include <string.h>
#include <lauxlib.h>
#include "factory.h"

#define HEADER 31                 /* signature .. LUAC_NUM, Lua 5.4 */
#define OP_CLOSURE 79
#define OP_RETURN 70

typedef struct reader { const unsigned char *p, *end; int bad; } reader;

static size_t rdsize (reader *r) {
  size_t x = 0;
  int b;
  do {
    if (r->p >= r->end || x >> (sizeof(size_t) * 8 - 8)) { r->bad = 1; return 0; }
    b = *r->p++;
    x = (x << 7) | (size_t)(b & 0x7f);
  } while (!(b & 0x80));
  return x;
}

static void skip (reader *r, size_t n) {
  if ((size_t)(r->end - r->p) < n) r->bad = 1;
  else r->p += n;
}

static void skipstring (reader *r) {
  size_t n = rdsize(r);
  if (n > 0) skip(r, n - 1);
}

static void putsize (luaL_Buffer *b, size_t x) {   /* as ldump.c's dumpSize */
  unsigned char buf[sizeof(size_t) * 8 / 7 + 1];
  int n = 0;
  do { buf[sizeof buf - (++n)] = (unsigned char)(x & 0x7f); x >>= 7; } while (x);
  buf[sizeof buf - 1] |= 0x80;
  luaL_addlstring(b, (const char *)buf + sizeof buf - n, (size_t)n);
}

static void putinstr (luaL_Buffer *b, uint32_t i) {
  luaL_addlstring(b, (const char *)&i, 4);          /* the dump is in native order */
}

int lng_factory_load (lua_State *L, const char *code, size_t n, int nup) {
  const unsigned char *d = (const unsigned char *)code;
  if (nup < 1 || nup > 200 || n < HEADER + 1 || memcmp(d, LUA_SIGNATURE, 4) != 0 ||
      d[4] != 0x54 || d[5] != 0 || d[HEADER] != nup)
    return -1;
  reader r = { d + HEADER + 1, d + n, 0 };
  skipstring(&r);                           /* source */
  rdsize(&r); rdsize(&r);                   /* linedefined, lastlinedefined */
  skip(&r, 3);                              /* numparams, is_vararg, maxstacksize */
  skip(&r, rdsize(&r) * 4);                 /* code */
  size_t nk = rdsize(&r);
  for (size_t i = 0; i < nk && !r.bad; i++) {
    if (r.p >= r.end) { r.bad = 1; break; }
    switch (*r.p++) {
      case 0: case 1: case 17: break;                        /* nil, false, true */
      case 3: case 19: skip(&r, 8); break;                   /* integer, float */
      case 4: case 20: skipstring(&r); break;                /* strings */
      default: r.bad = 1;
    }
  }
  if (r.bad || rdsize(&r) != (size_t)nup || r.bad || (size_t)(r.end - r.p) < (size_t)nup * 3)
    return -1;
  size_t upvals = (size_t)(r.p - d);       /* instack, idx, kind per upvalue */

  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addlstring(&b, code, HEADER);
  luaL_addchar(&b, 0);                      /* the factory has no upvalues */
  putsize(&b, 0);                           /* source: none */
  putsize(&b, 0); putsize(&b, 0);           /* lines */
  luaL_addchar(&b, (char)nup);              /* parameters: the upvalues */
  luaL_addchar(&b, 0);                      /* not vararg */
  luaL_addchar(&b, (char)(nup + 2));        /* registers */
  putsize(&b, 2);
  putinstr(&b, OP_CLOSURE | (uint32_t)nup << 7);                          /* R[nup] = closure */
  putinstr(&b, OP_RETURN | (uint32_t)nup << 7 | 1u << 15 | 2u << 16);     /* return it, closing */
  putsize(&b, 0);                           /* constants */
  putsize(&b, 0);                           /* upvalues */
  putsize(&b, 1);                           /* one prototype: the function, rebound */
  luaL_addlstring(&b, code + HEADER + 1, upvals - HEADER - 1);
  for (int i = 0; i < nup; i++) {
    char uv[3] = { 1, (char)i, (char)d[upvals + (size_t)i * 3 + 2] };   /* in register i */
    luaL_addlstring(&b, uv, 3);
  }
  luaL_addlstring(&b, code + upvals + (size_t)nup * 3, n - upvals - (size_t)nup * 3);
  for (int i = 0; i < 4; i++) putsize(&b, 0);   /* no line info, locals or names */
  luaL_pushresult(&b);
  size_t len;
  const char *f = lua_tolstring(L, -1, &len);
  int st = luaL_loadbufferx(L, f, len, "=(factory)", "b");
  lua_remove(L, -2);
  if (st != LUA_OK) {
    lua_pop(L, 1);
    return -1;
  }
  return 0;
}
