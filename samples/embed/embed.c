/*
 * Embedding lungo in a C program: a small pricing server. A C server loop
 * hands each request to a Lua goroutine of one of two runtimes (two
 * regions, each with its own tax rate and its own workers, in one
 * process), and reads the results back: tables that Lua sends, decoded
 * into a lua_State the server owns. A request whose goroutine fails (a
 * negative amount) is reported by the runtime's on_error hook; the
 * runtime goes on serving.
 *
 *                 lng_spawn("shop.price", id, amount, results)
 *   C server  ---------------------------------------------->  runtime "eu"  (RATE 20)
 *   loop      ---------------------------------------------->  runtime "us"  (RATE 7)
 *      ^                                                         |
 *      +--- lng_select over results[eu], results[us], ------------+
 *           failed[eu], failed[us] (sent by on_error)
 *
 * Uses include/lungo.h, and lua.h/lauxlib.h for the C function registered
 * in every shard and for reading the result tables.
 *
 * Usage: embed-sample [workers [requests]]   (defaults: 4 workers per runtime, 20000)
 * Prints a line per region and a last line ending in OK (exit 0) or FAILED (exit 1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lua.h>
#include <lauxlib.h>
#include "lungo.h"

#define NREGIONS 2
#define WINDOW 64        /* requests in flight per region */
#define BAD_EVERY 97     /* every 97th request has a negative amount: its goroutine fails */

typedef struct region {
  const char *name;
  long long rate;              /* tax in percent, a global of every goroutine (RATE) */
  lng_runtime *rt;
  lng_channel *results;        /* Lua -> C: {id = , total = , worker = } */
  lng_channel *failed;         /* on_error -> C: the failed goroutine's id */
  struct { long long gid; long long req; } pending[WINDOW];
  int inflight;
  long long served, failures, total, expected;
  int workers_seen[64];
} region;

/* c_tax(amount, rate) -> amount * rate // 100: the C function every shard has. */
static int c_tax(lua_State *L) {
  lua_Integer amount = luaL_checkinteger(L, 1), rate = luaL_checkinteger(L, 2);
  lua_pushinteger(L, amount * rate / 100);
  return 1;
}

/* The handler, a module every shard preloads: one goroutine per request. */
static const char SHOP[] =
  "package.preload.shop = function()\n"
  "  local M = {}\n"
  "  function M.price(id, amount, results)\n"
  "    if amount < 0 then error('request ' .. id .. ': negative amount') end\n"
  "    local total = amount + c_tax(amount, RATE)\n"
  "    results:send({id = id, total = total, worker = go.worker()})\n"
  "  end\n"
  "  return M\n"
  "end\n";

/* on_shard: runs for each worker of each runtime, on the thread calling lng_new. */
static void on_shard(lua_State *L, int worker, void *ud) {
  (void)worker; (void)ud;
  lua_register(L, "c_tax", c_tax);
  if (luaL_dostring(L, SHOP) != LUA_OK) lua_pop(L, 1);   /* (a bug here shows as a failed spawn) */
}

/* on_error: a goroutine failed. Runs on a worker: tell the server loop
   without blocking (the channel has room for every request in flight),
   and return 0 to keep the runtime serving. */
static int on_error(lng_runtime *rt, long long gid, int status, const char *message, void *ud) {
  region *r = ud;
  (void)rt; (void)status; (void)message;
  lng_value v = lng_integer(gid);
  return lng_send(r->failed, &v, 0) == LNG_OK ? 0 : 1;
}

static int start_region(region *r, const char *name, long long rate, int workers) {
  memset(r, 0, sizeof *r);
  r->name = name;
  r->rate = rate;
  lng_config cfg;
  lng_config_init(&cfg);
  cfg.workers = workers;
  cfg.service = 1;             /* serve until lng_stop, whatever fails */
  cfg.on_shard = on_shard;
  cfg.on_error = on_error;
  cfg.ud = r;
  r->rt = lng_new(&cfg);
  if (!r->rt) return LNG_ERRMEM;
  lng_value v = lng_integer(rate);
  int st = lng_set_global(r->rt, "RATE", &v);
  r->results = lng_channel_new(r->rt, WINDOW);
  r->failed = lng_channel_new(r->rt, WINDOW);
  if (!r->results || !r->failed) return LNG_ERRMEM;
  return st != LNG_OK ? st : lng_start(r->rt);
}

static long long amount_of(long long req) {
  return req % BAD_EVERY == 0 ? -1 : 100 + req % 900;    /* cents */
}

/* Hands request req to a goroutine of r. */
static int dispatch(region *r, long long req) {
  lng_value args[3] = { lng_integer(req), lng_integer(amount_of(req)), lng_chanvalue(r->results) };
  long long gid = lng_spawn(r->rt, "shop.price", args, 3);
  if (gid < 0) return (int)-gid;
  r->pending[r->inflight].gid = gid;
  r->pending[r->inflight].req = req;
  r->inflight++;
  return LNG_OK;
}

/* Drops the pending entry matching gid (or, with gid 0, request req). */
static int settle(region *r, long long gid, long long req) {
  for (int i = 0; i < r->inflight; i++) {
    if (gid ? r->pending[i].gid == gid : r->pending[i].req == req) {
      r->pending[i] = r->pending[--r->inflight];
      return 1;
    }
  }
  return 0;
}

/* A result table, decoded into L (the server's own state): its fields. */
static int take_result(region *r, lua_State *L, lng_value *v) {
  int ok = v->type == LNG_TTABLE && lng_value_decode(L, v) == LNG_OK;
  if (ok) {
    lua_getfield(L, -1, "id");
    lua_getfield(L, -2, "total");
    lua_getfield(L, -3, "worker");
    long long req = lua_tointeger(L, -3), total = lua_tointeger(L, -2);
    long long worker = lua_tointeger(L, -1);
    lua_pop(L, 4);
    ok = settle(r, 0, req) && req % BAD_EVERY != 0;
    long long amount = amount_of(req);
    ok = ok && total == amount + amount * r->rate / 100;
    if (worker >= 1 && worker <= 64) r->workers_seen[worker - 1] = 1;
    r->served++;
    r->total += total;
  }
  lng_value_free(v);
  return ok;
}

int main(int argc, char **argv) {
  int workers = argc > 1 ? atoi(argv[1]) : 4;
  long long nreq = argc > 2 ? atoll(argv[2]) : 20000;
  if (workers < 1 || workers > 64 || nreq < 1) {
    fprintf(stderr, "usage: %s [workers 1..64 [requests >= 1]]\n", argv[0]);
    return 2;
  }
  region regions[NREGIONS];
  static const char *names[NREGIONS] = { "eu", "us" };
  static const long long rates[NREGIONS] = { 20, 7 };
  int ok = 1;
  for (int i = 0; i < NREGIONS; i++) {
    int st = start_region(&regions[i], names[i], rates[i], workers);
    if (st != LNG_OK) {
      fprintf(stderr, "embed: region %s: %s\n", names[i], lng_status_string(st));
      return 1;
    }
  }
  lua_State *L = luaL_newstate();          /* the server's own state, for the results */
  if (!L) return 1;

  /* The server loop: keep WINDOW requests in flight per region, and wait
     for whatever comes back first. */
  long long next = 1, settled = 0;
  while (settled < nreq && ok) {
    while (next <= nreq) {
      region *r = &regions[next % NREGIONS];
      if (r->inflight == WINDOW) break;
      int st = dispatch(r, next);
      if (st != LNG_OK) {
        fprintf(stderr, "embed: lng_spawn: %s\n", lng_status_string(st));
        ok = 0;
        break;
      }
      next++;
    }
    lng_case cases[2 * NREGIONS];
    for (int i = 0; i < NREGIONS; i++) {
      cases[2 * i] = (lng_case){ regions[i].results, 0, lng_nil() };
      cases[2 * i + 1] = (lng_case){ regions[i].failed, 0, lng_nil() };
    }
    int chosen;
    int st = lng_select(cases, 2 * NREGIONS, 1.0, &chosen);
    if (st == LNG_TIMEOUT) {                 /* nothing for a second: is a runtime gone? */
      for (int i = 0; i < NREGIONS; i++)
        if (lng_status(regions[i].rt) != LNG_OK) {
          fprintf(stderr, "embed: %s ended: %s\n", regions[i].name, lng_message(regions[i].rt));
          ok = 0;
        }
      continue;
    }
    if (st != LNG_OK) { ok = 0; break; }
    region *r = &regions[chosen / 2];
    lng_value *v = &cases[chosen].value;
    if (chosen % 2 == 0) {
      ok = take_result(r, L, v);
    } else {
      ok = v->type == LNG_TINTEGER && settle(r, v->integer, 0);
      r->failures++;
      lng_value_free(v);
    }
    settled++;
  }

  /* Stop both services; every handle released before lng_destroy. */
  for (int i = 0; i < NREGIONS; i++) {
    region *r = &regions[i];
    lng_stop(r->rt);
    if (lng_wait(r->rt) != LNG_OK) ok = 0;
    long long seen = 0;
    for (int w = 0; w < workers; w++) seen += r->workers_seen[w];
    for (long long q = 1; q <= nreq; q++)
      if (q % NREGIONS == i && q % BAD_EVERY != 0) r->expected += amount_of(q) + amount_of(q) * r->rate / 100;
    long long bad = 0;
    for (long long q = 1; q <= nreq; q++) bad += q % NREGIONS == i && q % BAD_EVERY == 0;
    if (r->total != r->expected || r->failures != bad) ok = 0;
    printf("embed: %s (tax %lld%%): %lld requests priced on %lld of %d workers, %lld failed "
           "(reported by on_error), total %lld, expected %lld\n",
           r->name, r->rate, r->served, seen, workers, r->failures, r->total, r->expected);
    lng_channel_release(r->results);
    lng_channel_release(r->failed);
    lng_destroy(r->rt);
  }
  lua_close(L);
  printf("embed: %lld requests from a C server loop to %d runtimes of %d workers: %s\n",
         settled, NREGIONS, workers, ok && settled == nreq ? "OK" : "FAILED");
  return ok && settled == nreq ? 0 : 1;
}
