/*
 * The public C API's contract beyond lifecycle and channels: version
 * macros and the linked library's version, what a C function learns from
 * its lua_State (runtime, goroutine, worker), spawn returning ids, values
 * Lua sends that C has no struct for (kept encoded, decoded on demand,
 * passed on), select from C, and the on_error hook of a service. See
 * test_capi.c for the conventions.
 */
#include <lualib.h>
#include "capi_util.h"

/* ------------------------------------------------------------------ */
/* version                                                             */

Test(capi, version_macros_and_library, .timeout = T_TIMEOUT) {
  cr_assert_eq(LUNGO_VERSION_NUM,
               LUNGO_VERSION_MAJOR * 10000 + LUNGO_VERSION_MINOR * 100 + LUNGO_VERSION_PATCH);
  cr_assert_eq(lng_version_num(), LUNGO_VERSION_NUM);
  char want[64];
  snprintf(want, sizeof want, "lungo %d.%d", LUNGO_VERSION_MAJOR, LUNGO_VERSION_MINOR);
  cr_assert_str_eq(LUNGO_VERSION, want);
  cr_assert(strncmp(lng_version(), LUNGO_VERSION ", Lua 5.4", strlen(LUNGO_VERSION) + 9) == 0,
            "%s", lng_version());
}

/* ------------------------------------------------------------------ */
/* a C function finds its runtime, goroutine and worker                */

typedef struct whoami {
  lng_runtime *seen[8];       /* lng_runtime_of in on_shard, per worker */
  atomic_int hook_bad;        /* on_shard saw a goroutine id or a wrong worker */
  atomic_int calls;
} whoami;

/* c_whoami() -> runtime-is-ours, goroutine id, worker */
static int l_whoami(lua_State *L) {
  lng_runtime **rtp = lua_touserdata(L, lua_upvalueindex(1));
  lua_pushboolean(L, lng_runtime_of(L) == *rtp && *rtp != NULL);
  lua_pushinteger(L, (lua_Integer)lng_goroutine_id(L));
  lua_pushinteger(L, lng_worker_of(L));
  return 3;
}

static lng_runtime *whoami_rt;

static void whoami_hook(lua_State *L, int worker, void *ud) {
  whoami *w = ud;
  atomic_fetch_add(&w->calls, 1);
  if (worker < 1 || worker > 8 || lng_worker_of(L) != worker || lng_goroutine_id(L) != 0)
    atomic_store(&w->hook_bad, 1);
  else
    w->seen[worker - 1] = lng_runtime_of(L);
  lua_pushlightuserdata(L, &whoami_rt);
  lua_pushcclosure(L, l_whoami, 1);
  lua_setglobal(L, "c_whoami");
}

Test(capi, state_knows_runtime_goroutine_and_worker, .timeout = T_TIMEOUT) {
  for (int i = 0; i < NCOUNTS; i++) {
    int n = WORKER_COUNTS[i];
    whoami w;
    memset(&w, 0, sizeof w);
    lng_config cfg;
    lng_config_init(&cfg);
    cfg.workers = n;
    cfg.on_shard = whoami_hook;
    cfg.ud = &w;
    lng_runtime *rt = lng_new(&cfg);
    cr_assert_not_null(rt);
    whoami_rt = rt;
    cr_assert_eq(atomic_load(&w.hook_bad), 0);
    for (int k = 0; k < n; k++) cr_assert_eq(w.seen[k], rt, "worker %d", k + 1);
    cr_assert_eq(add_code(rt,
                          "local function check()\n"
                          "  local mine, id, worker = c_whoami()\n"
                          "  assert(mine, 'lng_runtime_of')\n"
                          "  assert(id == go.id(), 'lng_goroutine_id ' .. id .. ' vs ' .. go.id())\n"
                          "  assert(worker == go.worker(), 'lng_worker_of')\n"
                          "end\n"
                          "check()\n"
                          "local done = chan()\n"
                          "for k = 1, 32 do\n"
                          "  go(function()\n"
                          "    check(); go.yield(); check()\n"
                          "    coroutine.wrap(check)()\n"   /* inside a coroutine of it */
                          "    done:send(true)\n"
                          "  end)\n"
                          "end\n"
                          "for k = 1, 32 do done:recv() end\n", "=main"), LNG_OK);
    cr_assert_eq(lng_start(rt), LNG_OK);
    cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK, "%d workers: %s", n, lng_message(rt));
    lng_destroy(rt);
  }
  /* a state C made itself is none of a runtime's */
  lua_State *L = luaL_newstate();
  cr_assert_null(lng_runtime_of(L));
  cr_assert_eq(lng_goroutine_id(L), 0);
  cr_assert_eq(lng_worker_of(L), 0);
  lua_close(L);
  cr_assert_null(lng_runtime_of(NULL));
}

/* ------------------------------------------------------------------ */
/* lng_spawn returns the goroutine's id                                */

Test(capi, spawn_returns_the_goroutine_id, .timeout = T_TIMEOUT) {
  for (int i = 0; i < NCOUNTS; i++) {
    ctx c;
    lng_runtime *rt = new_rt(WORKER_COUNTS[i], 1, &c);
    lng_channel *out = lng_channel_new(rt, 64);
    static const char code[] = "local out = ... out:send(go.id())";
    lng_value a0 = lng_chanvalue(out);
    cr_assert_eq(lng_spawn_string(rt, code, sizeof code - 1, "=id", &a0, 1), -LNG_ERRMISUSE,
                 "a spawn before lng_start");
    cr_assert_eq(lng_start(rt), LNG_OK);
    long long ids[16];
    for (int k = 0; k < 16; k++) {
      lng_value arg = lng_chanvalue(out);
      ids[k] = lng_spawn_string(rt, code, sizeof code - 1, "=id", &arg, 1);
      cr_assert_gt(ids[k], 1, "spawn %d: %lld", k, ids[k]);   /* 1 is main's */
      for (int j = 0; j < k; j++) cr_assert_neq(ids[j], ids[k]);
    }
    /* every id reported from inside is one returned, each once */
    int seen[16] = {0};
    for (int k = 0; k < 16; k++) {
      long long id = recv_int(out);
      int found = 0;
      for (int j = 0; j < 16; j++)
        if (ids[j] == id) { seen[j]++; found = 1; }
      cr_assert(found, "go.id() %lld was not returned by a spawn", id);
    }
    for (int k = 0; k < 16; k++) cr_assert_eq(seen[k], 1);
    lng_value args[2] = { lng_chanvalue(out), lng_integer(3) };
    long long g = lng_spawn(rt, "gsquare", args, 2);
    cr_assert_gt(g, ids[15]);
    cr_assert_eq(recv_int(out), 9);
    cr_assert_eq(lng_spawn(rt, NULL, NULL, 0), -LNG_ERRMISUSE);
    lng_stop(rt);
    cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK, "%s", lng_message(rt));
    lng_channel_release(out);
    lng_destroy(rt);
  }
}

/* ------------------------------------------------------------------ */
/* values C has no struct for: encoded, never dropped                  */

/* Runs a check in a state C owns on the value at the top: `check` is a
   chunk receiving the value as `...` and returning true. */
static int check_in(lua_State *L, const char *check) {
  if (luaL_loadstring(L, check) != LUA_OK) return 0;
  lua_insert(L, -2);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
    cr_log_error("check failed: %s", lua_tostring(L, -1));
    lua_pop(L, 1);
    return 0;
  }
  int ok = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return ok;
}

Test(capi, tables_and_functions_arrive_encoded, .timeout = T_TIMEOUT) {
  for (int cap = 0; cap <= 4; cap += 4) {
    ctx c;
    lng_runtime *rt = new_rt(2, 0, &c);
    lng_channel *ch = lng_channel_new(rt, (size_t)cap);
    lng_channel *back = lng_channel_new(rt, 0);
    cr_assert_eq(set_chan(rt, "ch", ch), LNG_OK);
    cr_assert_eq(set_chan(rt, "back", back), LNG_OK);
    cr_assert_eq(add_code(rt,
                          "local t = {1, 2, x = 'y', sub = {z = true}}\n"
                          "t.self = t\n"
                          "ch:send(t)\n"
                          "local k = 10\n"
                          "ch:send(function(n) return n + k end)\n"
                          "ch:send(go.mutex())\n"
                          "ch:send(7)\n"
                          "ch:send({inner = ch})\n"
                          "ch:send('after')\n"
                          /* what C passes back on as it received it */
                          "local t2 = back:recv()\n"
                          "assert(t2.x == 'y' and t2[2] == 2 and t2.self == t2 and t2.sub.z)\n"
                          "local f = back:recv()\n"
                          "assert(f(5) == 15)\n"
                          "local m = back:recv()\n"
                          "m:lock() m:unlock()\n", "=main"), LNG_OK);
    cr_assert_eq(lng_start(rt), LNG_OK);
    lua_State *L = luaL_newstate();           /* a state C owns */
    luaL_openlibs(L);

    lng_value t, f, m, in;
    cr_assert_eq(lng_recv(ch, &t, WAIT_SECS), LNG_OK);
    cr_assert_eq(t.type, LNG_TTABLE);
    cr_assert_eq(lng_value_decode(L, &t), LNG_OK);
    cr_assert(check_in(L, "local t = ... return t[1] == 1 and t[2] == 2 and t.x == 'y' "
                          "and t.self == t and t.sub.z == true"));
    cr_assert_eq(lua_gettop(L), 0);

    cr_assert_eq(lng_recv(ch, &f, WAIT_SECS), LNG_OK);
    cr_assert_eq(f.type, LNG_TFUNCTION);
    cr_assert_eq(lng_value_decode(L, &f), LNG_ERRTYPE);   /* code needs a shard */
    cr_assert_eq(lua_gettop(L), 0);

    cr_assert_eq(lng_recv(ch, &m, WAIT_SECS), LNG_OK);
    cr_assert_eq(m.type, LNG_TOBJECT);
    cr_assert_eq(lng_value_decode(L, &m), LNG_ERRTYPE);

    cr_assert_eq(recv_int(ch), 7);

    cr_assert_eq(lng_recv(ch, &in, WAIT_SECS), LNG_OK);
    cr_assert_eq(in.type, LNG_TTABLE);
    cr_assert_eq(lng_value_decode(L, &in), LNG_ERRTYPE);  /* a channel inside */
    char got[32];
    recv_str(ch, got, sizeof got);
    cr_assert_str_eq(got, "after");

    /* not as a spawn argument (spawns pack several values) */
    long long sp = lng_spawn(rt, "print", &t, 1);
    cr_assert_eq(sp, -LNG_ERRTYPE, "%lld", sp);
    /* passed on as they are: Lua gets them back whole */
    cr_assert_eq(lng_send(back, &t, WAIT_SECS), LNG_OK);
    cr_assert_eq(lng_send(back, &f, WAIT_SECS), LNG_OK);
    cr_assert_eq(lng_send(back, &m, WAIT_SECS), LNG_OK);
    cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK, "%s", lng_message(rt));
    lng_value_free(&t);
    lng_value_free(&f);
    lng_value_free(&m);
    lng_value_free(&in);
    cr_assert_eq(t.type, LNG_TNIL);
    lua_close(L);
    lng_channel_release(ch);
    lng_channel_release(back);
    lng_destroy(rt);
  }
}

/* c_take() -> the value C receives (timeout 0) from the held channel,
   decoded into the goroutine's own state: functions and channels too. */
static int l_take(lua_State *L) {
  lng_channel **chp = lua_touserdata(L, lua_upvalueindex(1));
  lng_value v;
  int st = lng_recv(*chp, &v, 0);
  if (st != LNG_OK) return luaL_error(L, "lng_recv: %s", lng_status_string(st));
  st = lng_value_decode(L, &v);
  lng_value_free(&v);
  if (st != LNG_OK) return luaL_error(L, "lng_value_decode: %s", lng_status_string(st));
  return 1;
}

/* c_select(timeout) -> lng_select's status over the held channel, from a worker */
static int l_select(lua_State *L) {
  lng_channel **chp = lua_touserdata(L, lua_upvalueindex(1));
  lng_case cs[1] = { { *chp, 0, lng_nil() } };
  int chosen;
  int st = lng_select(cs, 1, luaL_checknumber(L, 1), &chosen);
  lng_value_free(&cs[0].value);
  lua_pushinteger(L, st);
  return 1;
}

static lng_channel *take_ch;

static void take_hook(lua_State *L, int worker, void *ud) {
  (void)worker; (void)ud;
  lua_pushlightuserdata(L, &take_ch);
  lua_pushcclosure(L, l_take, 1);
  lua_setglobal(L, "c_take");
  lua_pushlightuserdata(L, &take_ch);
  lua_pushcclosure(L, l_select, 1);
  lua_setglobal(L, "c_select");
}

/* Decoding inside a goroutine's C function takes functions and channels
   too; lng_select there only polls. */
Test(capi, decode_into_a_goroutine, .timeout = T_TIMEOUT) {
  for (int i = 0; i < NCOUNTS; i++) {
    lng_config cfg;
    lng_config_init(&cfg);
    cfg.workers = WORKER_COUNTS[i];
    cfg.on_shard = take_hook;
    lng_runtime *rt = lng_new(&cfg);
    cr_assert_not_null(rt);
    take_ch = lng_channel_new(rt, 4);
    cr_assert_eq(set_chan(rt, "held", take_ch), LNG_OK);
    lng_value st = lng_integer(LNG_ERRMISUSE);
    cr_assert_eq(lng_set_global(rt, "MISUSE", &st), LNG_OK);
    st = lng_integer(LNG_TIMEOUT);
    cr_assert_eq(lng_set_global(rt, "TIMEOUT", &st), LNG_OK);
    st = lng_integer(LNG_OK);
    cr_assert_eq(lng_set_global(rt, "OK", &st), LNG_OK);
    cr_assert_eq(add_code(rt,
                          "local k = 3\n"
                          "held:send({f = function(n) return n * k end, c = held, 'x'})\n"
                          "local t = c_take()\n"
                          "assert(t.f(5) == 15 and t[1] == 'x' and t.c == held)\n"
                          "go(function() held:send({n = go.id()}) end)\n"
                          "go.sleep(0.01) while held:len() == 0 do go.yield() end\n"
                          "assert(type(c_take().n) == 'number')\n"
                          /* a worker must not wait in lng_select: only polls */
                          "assert(c_select(0.5) == MISUSE, 'select waited on a worker')\n"
                          "assert(c_select(-1) == MISUSE)\n"
                          "assert(c_select(0) == TIMEOUT)\n"
                          "held:send(1) assert(c_select(0) == OK)\n", "=main"), LNG_OK);
    cr_assert_eq(lng_start(rt), LNG_OK);
    cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK, "%s", lng_message(rt));
    lng_channel_release(take_ch);
    lng_destroy(rt);
  }
}

/* ------------------------------------------------------------------ */
/* select from C                                                       */

Test(capi, select_ready_timeout_closed, .timeout = T_TIMEOUT) {
  ctx c;
  lng_runtime *rt = new_rt(2, 1, &c);
  lng_channel *a = lng_channel_new(rt, 4), *b = lng_channel_new(rt, 4), *d = lng_channel_new(rt, 1);
  cr_assert_eq(lng_start(rt), LNG_OK);
  int chosen;
  /* nothing ready: a poll, then a bounded wait */
  lng_case cs[3] = { { a, 0, lng_nil() }, { b, 0, lng_nil() }, { NULL, 0, lng_nil() } };
  cr_assert_eq(lng_select(cs, 3, 0, &chosen), LNG_TIMEOUT);
  cr_assert_eq(chosen, -1);
  cr_assert_eq(lng_select(cs, 3, 0.02, &chosen), LNG_TIMEOUT);
  /* b ready (sent from Lua) */
  lng_value arg[2] = { lng_chanvalue(b), lng_integer(42) };
  cr_assert_gt(lng_spawn_string(rt, "local ch, v = ... ch:send(v)", 28, "=s", arg, 2), 0);
  cr_assert_eq(lng_select(cs, 3, WAIT_SECS, &chosen), LNG_OK);
  cr_assert_eq(chosen, 1);
  cr_assert_eq(cs[1].value.type, LNG_TINTEGER);
  cr_assert_eq(cs[1].value.integer, 42);
  lng_value_free(&cs[1].value);
  /* a send case completes; a receive case that does not leaves nil */
  lng_case ss[2] = { { a, 0, lng_nil() }, { d, 1, lng_string("hi", 2) } };
  cr_assert_eq(lng_select(ss, 2, 0, &chosen), LNG_OK);
  cr_assert_eq(chosen, 1);
  cr_assert_eq(ss[0].value.type, LNG_TNIL);
  char got[8];
  recv_str(d, got, sizeof got);
  cr_assert_str_eq(got, "hi");
  /* both ready: each is chosen some of the time */
  int count[2] = {0, 0};
  for (int k = 0; k < 200; k++) {
    lng_value one = lng_integer(1);
    lng_send(a, &one, 0);
    lng_send(b, &one, 0);
    lng_case two[2] = { { a, 0, lng_nil() }, { b, 0, lng_nil() } };
    cr_assert_eq(lng_select(two, 2, 0, &chosen), LNG_OK);
    count[chosen]++;
    lng_value v;
    cr_assert_eq(lng_recv(chosen ? a : b, &v, 0), LNG_OK);   /* empty both again */
  }
  cr_assert_gt(count[0], 20, "%d / %d", count[0], count[1]);
  cr_assert_gt(count[1], 20, "%d / %d", count[0], count[1]);
  /* a closed channel: its receive completes with LNG_CLOSED and nil */
  lng_close(b);
  cr_assert_eq(lng_select(cs, 3, WAIT_SECS, &chosen), LNG_CLOSED);
  cr_assert_eq(chosen, 1);
  cr_assert_eq(cs[1].value.type, LNG_TNIL);
  lng_case sc[1] = { { b, 1, lng_integer(1) } };
  cr_assert_eq(lng_select(sc, 1, 0, &chosen), LNG_CLOSED);
  /* misuse */
  lng_case bad[1] = { { a, 1, lng_nil() } };
  cr_assert_eq(lng_select(bad, 1, 0, &chosen), LNG_ERRMISUSE);
  cr_assert_eq(lng_select(cs, 3, 0, NULL), LNG_ERRMISUSE);
  cr_assert_eq(lng_select(cs, 65, 0, &chosen), LNG_ERRMISUSE);
  cr_assert_eq(lng_select(NULL, 0, 0.01, &chosen), LNG_TIMEOUT);
  lng_stop(rt);
  cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK, "%s", lng_message(rt));
  lng_channel_release(a);
  lng_channel_release(b);
  lng_channel_release(d);
  lng_destroy(rt);
}

/* A select that waits is woken by a goroutine's send, a goroutine's
   receive, or a close, on any of its channels. */
Test(capi, select_waits_for_goroutines, .timeout = T_TIMEOUT) {
  for (int i = 0; i < NCOUNTS; i++) {
    ctx c;
    lng_runtime *rt = new_rt(WORKER_COUNTS[i], 1, &c);
    lng_channel *a = lng_channel_new(rt, 0), *b = lng_channel_new(rt, 0), *q = lng_channel_new(rt, 0);
    cr_assert_eq(lng_start(rt), LNG_OK);
    static const char code[] =
      "local a, b, q = ...\n"
      "go.sleep(0.01) b:send('from b')\n"     /* wakes a receive case */
      "go.sleep(0.01) assert(q:recv() == 5)\n" /* wakes a send case */
      "go.sleep(0.01) a:close()\n";
    lng_value args[3] = { lng_chanvalue(a), lng_chanvalue(b), lng_chanvalue(q) };
    cr_assert_gt(lng_spawn_string(rt, code, sizeof code - 1, "=w", args, 3), 0);
    int chosen;
    lng_case cs[2] = { { a, 0, lng_nil() }, { b, 0, lng_nil() } };
    cr_assert_eq(lng_select(cs, 2, -1, &chosen), LNG_OK);
    cr_assert_eq(chosen, 1);
    cr_assert_eq(cs[1].value.type, LNG_TSTRING);
    cr_assert_str_eq(cs[1].value.string, "from b");
    lng_value_free(&cs[1].value);
    lng_case ss[2] = { { a, 0, lng_nil() }, { q, 1, lng_integer(5) } };
    cr_assert_eq(lng_select(ss, 2, WAIT_SECS, &chosen), LNG_OK);
    cr_assert_eq(chosen, 1);
    cr_assert_eq(lng_select(cs, 1, WAIT_SECS, &chosen), LNG_CLOSED);
    cr_assert_eq(chosen, 0);
    lng_stop(rt);
    cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK, "%s", lng_message(rt));
    lng_channel_release(a);
    lng_channel_release(b);
    lng_channel_release(q);
    lng_destroy(rt);
  }
}

/* C threads selecting over two channels that goroutines feed, with
   timeouts racing the sends: every value arrives exactly once. */
#define SEL_THREADS 3
#define SEL_PER 1500

typedef struct selthread {
  pthread_t t;
  lng_channel *a, *b;
  long long count, sum, timeouts;
  int bad;
} selthread;

static void *selector(void *p) {
  selthread *s = p;
  for (;;) {
    int chosen;
    lng_case cs[2] = { { s->a, 0, lng_nil() }, { s->b, 0, lng_nil() } };
    int st = lng_select(cs, 2, 0.001, &chosen);
    if (st == LNG_TIMEOUT) { s->timeouts++; continue; }
    if (st == LNG_CLOSED) break;
    if (st != LNG_OK || cs[chosen].value.type != LNG_TINTEGER) { s->bad++; break; }
    s->count++;
    s->sum += cs[chosen].value.integer;
  }
  return NULL;
}

Test(capi, select_from_c_threads_exact, .timeout = T_TIMEOUT) {
  for (int i = 0; i < NCOUNTS; i++) {
    ctx c;
    lng_runtime *rt = new_rt(WORKER_COUNTS[i], 1, &c);
    lng_channel *a = lng_channel_new(rt, 0), *b = lng_channel_new(rt, 2);
    cr_assert_eq(lng_start(rt), LNG_OK);
    static const char code[] =
      "local a, b, n = ...\n"
      "local wg = go.waitgroup() wg:add(2)\n"
      "go(function() for i = 1, n do a:send(i) end wg:done() end)\n"
      "go(function() for i = n + 1, 2 * n do b:send(i) end wg:done() end)\n"
      "wg:wait() a:close()\n";
    lng_value args[3] = { lng_chanvalue(a), lng_chanvalue(b), lng_integer(SEL_PER) };
    cr_assert_gt(lng_spawn_string(rt, code, sizeof code - 1, "=feed", args, 3), 0);
    selthread th[SEL_THREADS];
    for (int k = 0; k < SEL_THREADS; k++) {
      memset(&th[k], 0, sizeof th[k]);
      th[k].a = a;
      th[k].b = b;
      cr_assert_eq(pthread_create(&th[k].t, NULL, selector, &th[k]), 0);
    }
    long long count = 0, sum = 0;
    for (int k = 0; k < SEL_THREADS; k++) {
      pthread_join(th[k].t, NULL);
      cr_assert_eq(th[k].bad, 0);
      count += th[k].count;
      sum += th[k].sum;
    }
    /* b may still hold what was buffered when a closed */
    lng_value v;
    while (lng_recv(b, &v, 0) == LNG_OK) { count++; sum += v.integer; }
    long long n = 2 * SEL_PER;
    cr_assert_eq(count, n);
    cr_assert_eq(sum, n * (n + 1) / 2);
    lng_stop(rt);
    cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK, "%s", lng_message(rt));
    lng_channel_release(a);
    lng_channel_release(b);
    lng_destroy(rt);
  }
}

/* ------------------------------------------------------------------ */
/* a service's failing goroutines                                      */

typedef struct errs {
  atomic_int calls;
  atomic_llong last_id;
  atomic_int bad;             /* a status or message that is not the expected one */
  int end_it;                 /* what the hook returns */
  char first[256];            /* the first message (written by the first call only) */
  char last[256];             /* the latest (tests wait for each call before the next) */
} errs;

static int on_error(lng_runtime *rt, long long id, int status, const char *message, void *ud) {
  errs *e = ud;
  if (!rt || status != LNG_ERRRUN || !message) atomic_store(&e->bad, 1);
  char head[64];
  snprintf(head, sizeof head, "goroutine %lld: ", id);
  if (strncmp(message, head, strlen(head)) != 0) atomic_store(&e->bad, 1);
  if (atomic_load(&e->calls) == 0) snprintf(e->first, sizeof e->first, "%s", message);
  snprintf(e->last, sizeof e->last, "%s", message);
  atomic_store(&e->last_id, id);
  atomic_fetch_add(&e->calls, 1);
  return e->end_it;
}

static lng_runtime *service(errs *e, int workers, int end_it) {
  memset(e, 0, sizeof *e);
  e->end_it = end_it;
  lng_config cfg;
  lng_config_init(&cfg);
  cfg.workers = workers;
  cfg.service = 1;
  cfg.on_error = on_error;
  cfg.ud = e;
  lng_runtime *rt = lng_new(&cfg);
  cr_assert_not_null(rt);
  cr_assert_eq(lng_start(rt), LNG_OK);
  return rt;
}

Test(capi, service_survives_failing_goroutines, .timeout = T_TIMEOUT) {
  for (int i = 0; i < NCOUNTS; i++) {
    errs e;
    lng_runtime *rt = service(&e, WORKER_COUNTS[i], 0);
    lng_channel *out = lng_channel_new(rt, 8);
    lng_value arg = lng_chanvalue(out);
    static const char bad[] = "local out = ...\nlocal t = nil\nreturn t.x\n";
    long long id = lng_spawn(rt, "no_such_function", NULL, 0);    /* fails to start */
    cr_assert_gt(id, 0);
    for (int k = 0; k < 2000 && atomic_load(&e.calls) < 1; k++) sleep_ms(10);
    cr_assert_eq(atomic_load(&e.calls), 1);
    cr_assert_eq(atomic_load(&e.last_id), id);
    cr_assert(contains(e.first, "is not a function"), "%s", e.first);
    id = lng_spawn_string(rt, bad, sizeof bad - 1, "=job", &arg, 1);
    cr_assert_gt(id, 0);
    for (int k = 0; k < 2000 && atomic_load(&e.calls) < 2; k++) sleep_ms(10);
    cr_assert_eq(atomic_load(&e.calls), 2);
    cr_assert_eq(atomic_load(&e.last_id), id);
    cr_assert(contains(e.last, "attempt to index a nil value"), "%s", e.last);
    cr_assert_eq(atomic_load(&e.bad), 0, "%s", e.first);
    cr_assert_eq(lng_status(rt), LNG_OK, "the service ended: %s", lng_message(rt));
    /* it goes on serving */
    static const char good[] = "local out = ... out:send(go.id())";
    long long g = lng_spawn_string(rt, good, sizeof good - 1, "=good", &arg, 1);
    cr_assert_eq(recv_int(out), g);
    lng_stop(rt);
    cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK, "%s", lng_message(rt));
    lng_channel_release(out);
    lng_destroy(rt);
  }
}

/* A failed goroutine's to-be-closed variables are closed, with its error,
   before on_error is told: a service that goes on loses no cleanup. */
Test(capi, service_failed_goroutine_closes_its_variables, .timeout = T_TIMEOUT) {
  for (int i = 0; i < NCOUNTS; i++) {
    errs e;
    lng_runtime *rt = service(&e, WORKER_COUNTS[i], 0);
    lng_channel *out = lng_channel_new(rt, 8);
    lng_value arg = lng_chanvalue(out);
    static const char job[] =
      "local out = ...\n"
      "local a <close> = setmetatable({}, {__close = function(_, err) out:send(1) end})\n"
      "local b <close> = setmetatable({}, {__close = function(_, err)\n"
      "  out:send(tostring(err):find('job failed', 1, true) and 2 or -2) end})\n"
      "error('job failed')\n";
    long long id = lng_spawn_string(rt, job, sizeof job - 1, "=job", &arg, 1);
    cr_assert_gt(id, 0);
    cr_assert_eq(recv_int(out), 2, "b closed first, with the error");
    cr_assert_eq(recv_int(out), 1, "then a");
    for (int k = 0; k < 2000 && atomic_load(&e.calls) < 1; k++) sleep_ms(10);
    cr_assert_eq(atomic_load(&e.calls), 1);
    cr_assert(contains(e.first, "job failed"), "%s", e.first);
    cr_assert_eq(lng_status(rt), LNG_OK, "the service ended: %s", lng_message(rt));
    lng_stop(rt);
    cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK, "%s", lng_message(rt));
    lng_channel_release(out);
    lng_destroy(rt);
  }
}

Test(capi, service_on_error_may_end_it, .timeout = T_TIMEOUT) {
  errs e;
  lng_runtime *rt = service(&e, 2, 1);
  long long id = lng_spawn_string(rt, "error('boom')", 13, "=job", NULL, 0);
  cr_assert_gt(id, 0);
  cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_ERRRUN);
  cr_assert_eq(atomic_load(&e.calls), 1);
  cr_assert_eq(atomic_load(&e.last_id), id);
  cr_assert(contains(lng_message(rt), "boom"), "%s", lng_message(rt));
  lng_destroy(rt);
}

/* c_errs() -> how many times on_error ran */
static int l_errs(lua_State *L) {
  errs *e = lua_touserdata(L, lua_upvalueindex(1));
  lua_pushinteger(L, atomic_load(&e->calls));
  return 1;
}

static void errs_hook(lua_State *L, int worker, void *ud) {
  (void)worker;
  lua_pushlightuserdata(L, ud);
  lua_pushcclosure(L, l_errs, 1);
  lua_setglobal(L, "c_errs");
}

/* The main goroutine's error is the program's, hook or not. */
Test(capi, on_error_not_for_main, .timeout = T_TIMEOUT) {
  errs e;
  memset(&e, 0, sizeof e);
  lng_config cfg;
  lng_config_init(&cfg);
  cfg.workers = 2;
  cfg.on_error = on_error;
  cfg.on_shard = errs_hook;
  cfg.ud = &e;
  lng_runtime *rt = lng_new(&cfg);
  cr_assert_eq(add_code(rt, "go(function() error('in a goroutine') end)\n"
                            "while c_errs() == 0 do go.sleep(0.001) end\n"
                            "error('in main')\n", "=main"), LNG_OK);
  cr_assert_eq(lng_start(rt), LNG_OK);
  cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_ERRRUN);
  cr_assert(contains(lng_message(rt), "in main"), "%s", lng_message(rt));
  cr_assert_eq(atomic_load(&e.calls), 1);
  cr_assert(contains(e.first, "in a goroutine"), "%s", e.first);
  lng_destroy(rt);
}

/* Every value decodes into a state C owns, but a channel (it needs a
   runtime's state); a bad value is refused without touching the stack. */
Test(capi, decode_scalars_into_own_state, .timeout = T_TIMEOUT) {
  lua_State *L = luaL_newstate();
  lng_value vs[] = { lng_nil(), lng_boolean(1), lng_integer(-7), lng_number(2.5),
                     lng_string("a\0b", 3) };
  for (int i = 0; i < 5; i++) cr_assert_eq(lng_value_decode(L, &vs[i]), LNG_OK, "value %d", i);
  cr_assert_eq(lua_gettop(L), 5);
  cr_assert(lua_isnil(L, 1));
  cr_assert(lua_toboolean(L, 2));
  cr_assert(lua_isinteger(L, 3) && lua_tointeger(L, 3) == -7);
  cr_assert(!lua_isinteger(L, 4) && lua_tonumber(L, 4) == 2.5);
  size_t len;
  const char *s = lua_tolstring(L, 5, &len);
  cr_assert(len == 3 && memcmp(s, "a\0b", 3) == 0);
  lua_settop(L, 0);
  ctx c;
  lng_runtime *rt = new_rt(1, 0, &c);
  lng_channel *ch = lng_channel_new(rt, 1);
  lng_value cv = lng_chanvalue(ch);
  cr_assert_eq(lng_value_decode(L, &cv), LNG_ERRTYPE);
  lng_value bad = lng_string(NULL, 2), badtype = { .type = 99 }, noenc = { .type = LNG_TTABLE };
  cr_assert_eq(lng_value_decode(L, &bad), LNG_ERRMISUSE);
  cr_assert_eq(lng_value_decode(L, &badtype), LNG_ERRMISUSE);
  cr_assert_eq(lng_value_decode(L, &noenc), LNG_ERRMISUSE);
  cr_assert_eq(lng_value_decode(NULL, &cv), LNG_ERRMISUSE);
  cr_assert_eq(lua_gettop(L), 0);
  lng_channel_release(ch);
  lng_destroy(rt);
  lua_close(L);
}
