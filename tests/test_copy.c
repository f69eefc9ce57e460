/*
 * Tests for the copier (vm/copy.h): values are encoded in one state (S)
 * and decoded in another, independent one (R); results are checked by Lua
 * snippets run in R against the decoded values, which are stored as
 * globals v1..vn.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include "../vm/copy.h"
#include "../vm/proxy.h"

static lua_State *S, *R;
static lng_msg M;

static lua_State *newstate (void) {
  lua_State *L = luaL_newstate();
  cr_assert(L != NULL);
  luaL_openlibs(L);
  memset(lua_getextraspace(L), 0, LUA_EXTRASPACE);   /* no shard (copy.h) */
  return L;
}

static void setup (void) {
  S = newstate();
  R = newstate();
  lng_msg_init(&M);
  lua_pushinteger(R, 42);
  lua_setglobal(R, "x");
}

static void teardown (void) {
  if (S) lua_close(S);
  if (R) lua_close(R);
  lng_msg_free(&M);
}

TestSuite(copy, .init = setup, .fini = teardown);

/* Runs src in L, leaving its results on the stack; returns how many. */
static int run (lua_State *L, const char *src) {
  int top = lua_gettop(L);
  if (luaL_loadstring(L, src) != LUA_OK || lua_pcall(L, 0, LUA_MULTRET, 0) != LUA_OK)
    cr_assert_fail("chunk failed: %s\n%s", lua_tostring(L, -1), src);
  return lua_gettop(L) - top;
}

/* Asserts that src, run in L, returns true. */
static void checkin (lua_State *L, const char *src) {
  if (luaL_loadstring(L, src) != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK)
    cr_assert_fail("check raised: %s\n%s", lua_tostring(L, -1), src);
  cr_assert(lua_toboolean(L, -1), "check failed: %s", src);
  lua_pop(L, 1);
}

static void check (const char *src) { checkin(R, src); }

/* Pops n decoded values from R into globals v1..vn (w1..wn if prefix 'w'). */
static void setvals (int n, char prefix) {
  for (int i = n; i >= 1; i--) {
    char name[16];
    snprintf(name, sizeof name, "%c%d", prefix, i);
    lua_setglobal(R, name);
  }
}

/* Encodes the stack slots first..top of S (env = S's globals), checks
   the stacks stay balanced, decodes into R and sets v1..vn. */
static int xferstack (int first) {
  int n = lua_gettop(S) - first + 1;
  lua_rawgeti(S, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  int top = lua_gettop(S);
  int rc = lng_copy_encode(S, first, n, top, 1, &M);
  cr_assert_eq(rc, 0, "encode failed: %s", lua_tostring(S, -1));
  cr_assert_eq(lua_gettop(S), top, "encode unbalanced the stack");
  lua_settop(S, first - 1);
  int rtop = lua_gettop(R);
  int got = lng_copy_decode(R, &M, 0);
  cr_assert_eq(got, n, "decode gave %d of %d values: %s", got, n,
               got < 0 ? lua_tostring(R, -1) : "");
  cr_assert_eq(lua_gettop(R), rtop + n, "decode unbalanced the stack");
  setvals(n, 'v');
  return n;
}

/* Runs src in S and sends all its results to R as v1..vn. */
static int xfer (const char *src) {
  int first = lua_gettop(S) + 1;
  run(S, src);
  return xferstack(first);
}

/* Runs src in S, encodes its results expecting failure; returns the
   message (valid until the next call). */
static const char *xfererrenv (const char *src, int argbase, int useenv) {
  static char buf[1024];
  int first = lua_gettop(S) + 1;
  int n = run(S, src);
  lua_rawgeti(S, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  int top = lua_gettop(S);
  int rc = lng_copy_encode(S, first, n, useenv ? top : 0, argbase, &M);
  cr_assert_eq(rc, -1, "encode of %s should fail", src);
  cr_assert_eq(lua_gettop(S), top + 1, "error must push exactly one value");
  cr_assert_eq(lua_type(S, -1), LUA_TSTRING);
  snprintf(buf, sizeof buf, "%s", lua_tostring(S, -1));
  lua_settop(S, first - 1);
  lng_msg_free(&M);
  return buf;
}

static const char *xfererr (const char *src, int argbase) {
  return xfererrenv(src, argbase, 1);
}

static int startswith (const char *s, const char *prefix) {
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int endswith (const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && strcmp(s + n - k, suffix) == 0;
}


/* -------------------------------------------------------------- scalars */

Test(copy, scalars_and_number_subtypes) {
  int n = xfer("return nil, true, false, 1, 1.0, -0.0, math.maxinteger,"
               " math.mininteger, 1/0, -1/0, 0/0, 2^53, -7, 3.25, nil");
  cr_assert_eq(n, 15);
  check("return v1 == nil and v2 == true and v3 == false");
  check("return math.type(v4) == 'integer' and v4 == 1");
  check("return math.type(v5) == 'float' and v5 == 1");
  check("return math.type(v6) == 'float' and 1/v6 == -math.huge");
  check("return v7 == math.maxinteger and v8 == math.mininteger");
  check("return v9 == math.huge and v10 == -math.huge and v11 ~= v11");
  check("return math.type(v12) == 'float' and v12 == 2^53");
  check("return math.type(v13) == 'integer' and v13 == -7 and v14 == 3.25");
  check("return v15 == nil");
}

Test(copy, strings_are_binary_safe) {
  xfer("local t = {} for i = 0, 255 do t[#t + 1] = string.char(i) end"
       " return 'a\\0b', table.concat(t), '', ('\\0'):rep(100)");
  check("return v1 == 'a\\0b' and #v1 == 3");
  check("for i = 0, 255 do if v2:byte(i + 1) ~= i then return false end end"
        " return #v2 == 256");
  check("return v3 == '' and v4 == ('\\0'):rep(100)");
}

Test(copy, large_string) {
  size_t len = (size_t)64 << 20;
  char *s = malloc(len);
  cr_assert(s != NULL);
  for (size_t i = 0; i < len; i++) s[i] = (char)(i * 7 % 251);
  lua_pushlstring(S, s, len);
  xferstack(lua_gettop(S));
  cr_assert(M.ext && M.len > len);
  lua_getglobal(R, "v1");
  size_t rlen;
  const char *r = lua_tolstring(R, -1, &rlen);
  cr_assert_eq(rlen, len);
  cr_assert(memcmp(r, s, len) == 0, "64 MiB string differs");
  lua_pop(R, 1);
  free(s);
}

Test(copy, zero_values) {
  cr_assert_eq(lng_copy_encode(S, 1, 0, 0, 1, &M), 0);
  cr_assert_eq(M.len, 0);
  cr_assert_eq(lng_copy_decode(R, &M, 0), 0);
  cr_assert_eq(lua_gettop(R), 0);
}

static size_t nallocs;

static void *countalloc (void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud;
  if (nsize == 0) { free(ptr); return NULL; }
  if (ptr == NULL || nsize > osize) nallocs++;
  return realloc(ptr, nsize);
}

/* Scalars must go through the message's inline buffer with no Lua
   allocation on either side (no helper tables). */
Test(copy, scalars_allocate_nothing) {
  lua_State *A = lua_newstate(countalloc, NULL), *B = lua_newstate(countalloc, NULL);
  luaL_openlibs(A);
  luaL_openlibs(B);
  lua_pushinteger(A, -123456789);
  lua_pushnumber(A, 2.5);
  lua_pushboolean(A, 1);
  lua_pushliteral(A, "a short string!");
  lua_pushliteral(B, "a short string!");   /* interned in B already */
  for (int i = 1; i <= 4; i++) {
    lng_msg m;
    lng_msg_init(&m);
    size_t before = nallocs;
    cr_assert_eq(lng_copy_encode(A, i, 1, 0, 1, &m), 0);
    cr_assert_eq(nallocs, before, "encode of value %d allocated", i);
    cr_assert(!m.ext, "value %d left the inline buffer", i);
    cr_assert_eq(lua_gettop(A), 4);
    before = nallocs;
    cr_assert_eq(lng_copy_decode(B, &m, 0), 1);
    cr_assert_eq(nallocs, before, "decode of value %d allocated", i);
    if (i == 4) cr_assert(lua_rawequal(B, -1, 1));
    if (i == 1) cr_assert_eq(lua_tointeger(B, -1), -123456789);
    if (i == 2) cr_assert(!lua_isinteger(B, -1) && lua_tonumber(B, -1) == 2.5);
    if (i == 3) cr_assert(lua_isboolean(B, -1) && lua_toboolean(B, -1));
    lua_pop(B, 1);
    lng_msg_free(&m);
  }
  lua_close(A);
  lua_close(B);
}


/* --------------------------------------------------------------- tables */

Test(copy, nested_tables) {
  xfer("return {1, 2, {x = 'y', [true] = false, [2.5] = 'f'}, n = 1.5,"
       " [-3] = 'neg', ['a key'] = {}}");
  check("return v1[1] == 1 and v1[2] == 2 and v1.n == 1.5 and v1[-3] == 'neg'");
  check("return v1[3].x == 'y' and v1[3][true] == false and v1[3][2.5] == 'f'");
  check("return type(v1['a key']) == 'table' and next(v1['a key']) == nil");
  check("local n = 0 for _ in pairs(v1) do n = n + 1 end return n == 6");
}

Test(copy, cycles_and_shared_subtables) {
  xfer("local t = {} t.self = t"
       " local s = {v = 1} t.a = s t.b = s"
       " local p, q = {}, {} p.q = q q.p = p t.p = p"
       " return t");
  check("return v1.self == v1");
  check("return v1.a == v1.b and v1.a.v == 1 and v1.a ~= v1");
  check("return v1.p.q.p == v1.p and v1.p.q ~= v1.p");
}

Test(copy, sharing_across_values) {
  xfer("local t = {inner = {}} return t, t, t.inner");
  check("return v1 == v2 and v1.inner == v3");
}

Test(copy, tables_as_keys) {
  xfer("local k = {name = 'k'} local t = {[k] = k, other = k} return t");
  check("local k, v = next(v1, nil) if k == 'other' then k, v = next(v1, k) end"
        " return type(k) == 'table' and k == v and v1.other == k and k.name == 'k'");
}

Test(copy, metatables_raw) {
  xfer("local mt = {__index = function() error('__index called') end,"
       "  __newindex = function() error('__newindex called') end,"
       "  __pairs = function() error('__pairs called') end,"
       "  __metatable = 'locked', tag = 'mt'}"
       " local a = setmetatable({x = 1, y = {2}}, mt)"
       " local b = setmetatable({}, mt)"
       " local c = {} setmetatable(c, c) c.__index = c c.z = 3"
       " return a, b, c");
  check("return rawget(v1, 'x') == 1 and rawget(v1, 'y')[1] == 2");
  check("return getmetatable(v1) == 'locked' and debug.getmetatable(v1).tag == 'mt'");
  check("return debug.getmetatable(v1) == debug.getmetatable(v2)");
  check("return not pcall(function() return v1.missing end)");
  check("return getmetatable(v3) == v3 and v3.z == 3");
}

/* t's metatable is only half built when t is met (t is in its array part,
   __gc in its hash part); __gc must still be honoured in the copy. */
Test(copy, metatable_gc_in_cycle) {
  xfer("local mt = {} local t = setmetatable({}, mt)"
       " mt[1] = t mt.__gc = function() GCS = (GCS or 0) + 1 end return mt");
  check("return getmetatable(v1[1]) == v1 and GCS == nil");
  check("v1[1] = nil collectgarbage() collectgarbage() return GCS == 1");
}

Test(copy, large_table) {
  xfer("local t = {} for i = 1, 1000000 do t[i] = i * 2 end"
       " for i = 1, 1000 do t['k' .. i] = i end return t");
  check("if #v1 ~= 1000000 then return false end"
        " for i = 1, 1000000 do if v1[i] ~= i * 2 then return false end end"
        " local n = 0 for _ in pairs(v1) do n = n + 1 end"
        " return n == 1001000 and v1.k1000 == 1000");
}

Test(copy, decode_into_same_state) {
  run(S, "T = {a = {1}} T.self = T return T");
  cr_assert_eq(lng_copy_encode(S, -1, 1, 0, 1, &M), 0);
  cr_assert_eq(lng_copy_decode(S, &M, 0), 1);
  lua_setglobal(S, "C");
  lua_pop(S, 1);
  checkin(S, "return C ~= T and C.self == C and C.a ~= T.a and C.a[1] == 1");
}


/* ------------------------------------------------------------ functions */

Test(copy, lua_functions) {
  xfer("return function(a, b) return a + b end");
  check("return v1(2, 3) == 5");
}

Test(copy, functions_keep_debug_info) {
  xfer("return load('local x = 1\\nreturn function() error(\"boom\") end',"
       " '=src.lua')()");
  check("local ok, e = pcall(v1) return not ok and e == 'src.lua:2: boom'");
}

Test(copy, upvalues_by_value) {
  xfer("local n = 5 F = function() n = n + 1 return n end return F");
  check("return v1() == 6 and v1() == 7");
  checkin(S, "return F() == 6");
}

Test(copy, shared_upvalues) {
  xfer("local n = 10 local function inc() n = n + 1 return n end"
       " local function get() return n end"
       " return {inc = inc, get = get}, get, inc");
  check("v1.inc() v1.inc() return v1.get() == 12 and v2() == 12");
  check("v3() return v1.get() == 13");
}

Test(copy, unshared_partner_not_sent) {
  xfer("local n = 1 local function inc() n = n + 1 return n end"
       " local function get() return n end return get");
  check("return v1() == 1");
}

/* g is met inside f's first upvalue and shares f's second upvalue, which
   is only written after it. */
Test(copy, upvalue_joined_before_set) {
  xfer("local a, b = {}, 10"
       " local function f() return a, b end"
       " local function g() b = b + 1 return b end"
       " a.g = g return f");
  check("local a, b = v1() return b == 10 and a.g() == 11 and select(2, v1()) == 11");
}

Test(copy, upvalue_shared_within_one_function) {
  xfer("local a, b = 1, 100"
       " local function f() a = a + 1 return a, b end"
       " debug.upvaluejoin(f, 2, f, 1) return f");
  check("local x, y = v1() return x == 2 and y == 2");
  check("return debug.upvalueid(v1, 1) == debug.upvalueid(v1, 2)");
}

Test(copy, env_becomes_receiver_globals) {
  xfer("x = 'sender' return function() return x end, function(v) y = v end, {g = _G}");
  check("return v1() == 42");
  check("v2('set') return y == 'set'");
  check("return v3.g == _G");
}

Test(copy, decode_with_explicit_env) {
  run(S, "return function() return x end");
  lua_rawgeti(S, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  cr_assert_eq(lng_copy_encode(S, 1, 1, 2, 1, &M), 0);
  run(R, "return {x = 7}");
  cr_assert_eq(lng_copy_decode(R, &M, 1), 1);
  lua_setglobal(R, "v1");
  check("return v1() == 7");
}

Test(copy, sender_env_table) {
  /* a goroutine whose globals are E rather than the registry's */
  run(S, "local E = {x = 'E'} return load('return x', 'c', 't', E), E");
  cr_assert_eq(lng_copy_encode(S, 1, 1, 2, 1, &M), 0);
  lua_settop(S, 0);
  cr_assert_eq(lng_copy_decode(R, &M, 0), 1);
  lua_setglobal(R, "v1");
  check("return v1() == 42");
}

Test(copy, no_env_copies_env_by_value) {
  run(S, "local E = {x = 5} return load('return x', 'c', 't', E)");
  cr_assert_eq(lng_copy_encode(S, 1, 1, 0, 1, &M), 0);
  lua_settop(S, 0);
  cr_assert_eq(lng_copy_decode(R, &M, 0), 1);
  lua_setglobal(R, "v1");
  check("return v1() == 5 and x == 42");
}

/* The state's own globals (what modules loaded by require see) are never
   copied: they become the receiver's globals, with or without env. */
Test(copy, state_globals_become_receiver_globals) {
  run(S, "return function() return x end, _G");
  cr_assert_eq(lng_copy_encode(S, 1, 2, 0, 1, &M), 0);
  lua_settop(S, 0);
  cr_assert_eq(lng_copy_decode(R, &M, 0), 2);
  lua_setglobal(R, "v2");
  lua_setglobal(R, "v1");
  check("x = 9 return v1() == 9 and v2 == _G");
}

Test(copy, functions_in_cycles) {
  xfer("local f = function() end"
       " local t = {} local function g() return t end t.g = g"
       " local function fact(n) if n <= 1 then return 1 end return n * fact(n - 1) end"
       " return {a = f, b = f, [f] = 'key'}, f, g, fact");
  check("return v1.a == v1.b and v1.a == v2 and v1[v2] == 'key'");
  check("return v3().g == v3");
  check("return v4(5) == 120");
}

Test(copy, c_functions) {
  xfer("return {p = print, f = string.format}, print");
  check("return v1.p == print and v2 == print and v1.f('%d', 3) == '3'");
}

static int upcf (lua_State *L) {
  lua_pushvalue(L, lua_upvalueindex(1));
  return 1;
}

Test(copy, c_closure_fails) {
  lua_pushinteger(S, 1);
  lua_pushcclosure(S, upcf, 1);
  lua_setglobal(S, "C");
  cr_assert_str_eq(xfererr("return C", 1),
                   "cannot copy C function with upvalues (at argument 1)");
  cr_assert_str_eq(xfererr("return 1, {f = C}", 1),
                   "cannot copy C function with upvalues (at argument 2 .f)");
  cr_assert_str_eq(xfererr("local c = C return function() return c end", 1),
                   "cannot copy C function with upvalues (at argument 1 upvalue 'c')");
}


/* -------------------------------------------------------------- proxies */

#define TKIND (LNG_PROXY_MAXKIND - 1)   /* a kind of its own, unused by the runtime */

typedef struct tobj { lng_obj o; } tobj;
static int destroyed;

static void tdestroy (lng_obj *o) {
  destroyed++;
  free(o);
}

static void regkind (lua_State *L) {
  lua_newtable(L);
  lua_pushliteral(L, "tobj");
  lua_setfield(L, -2, "__name");
  lng_proxy_register(L, TKIND);
}

static tobj *newtobj (lua_State *L, const char *global) {
  tobj *t = malloc(sizeof *t);
  cr_assert(t != NULL);
  lng_obj_init(&t->o, TKIND, tdestroy);
  lng_proxy_push(L, &t->o);
  lng_obj_unref(&t->o);   /* the proxy owns the object now */
  lua_setglobal(L, global);
  return t;
}

static int refs (tobj *t) { return atomic_load(&t->o.refs); }

Test(copy, proxies_by_reference) {
  destroyed = 0;
  regkind(S);
  regkind(R);
  tobj *t = newtobj(S, "P");
  cr_assert_eq(refs(t), 1);
  xfer("return {a = P, b = P}, P");
  cr_assert_eq(lng_msg_nrefs(&M), 3);
  cr_assert_eq(refs(t), 1 + 3 + 1);   /* S's proxy, the message, R's proxy */
  check("return type(v2) == 'userdata' and v1.a == v1.b and v1.a == v2");
  check("return getmetatable(v2).__name == 'tobj'");
  lua_getglobal(R, "v2");
  cr_assert_eq(lng_proxy_test(R, -1), &t->o);
  lua_pop(R, 1);
  cr_assert_eq(lng_copy_decode(R, &M, 0), 2);   /* again: same proxy */
  setvals(2, 'w');
  check("return w2 == v2 and w1 ~= v1 and w1.a == v2");
  cr_assert_eq(refs(t), 5);
  lua_close(S);
  S = NULL;
  lua_close(R);
  R = NULL;
  cr_assert_eq(refs(t), 3);
  cr_assert_eq(destroyed, 0);
  lng_msg_free(&M);
  cr_assert_eq(destroyed, 1);
}

Test(copy, proxy_refs_dropped_on_error) {
  destroyed = 0;
  regkind(S);
  tobj *t = newtobj(S, "P");
  int first = lua_gettop(S) + 1;
  run(S, "return {P, P, coroutine.create(print)}");
  cr_assert_eq(lng_copy_encode(S, first, 1, 0, 1, &M), -1);
  cr_assert_str_eq(lua_tostring(S, -1), "cannot copy thread (at argument 1 [3])");
  cr_assert_eq(lng_msg_nrefs(&M), 2);
  cr_assert_eq(refs(t), 3);
  lng_msg_free(&M);
  cr_assert_eq(refs(t), 1);
  lua_close(S);
  S = NULL;
  cr_assert_eq(destroyed, 1);
}

/* __gc is reachable from Lua; called on a userdata that merely looks like
   a proxy it must not drop a reference. */
Test(copy, proxy_gc_ignores_foreign_userdata) {
  destroyed = 0;
  regkind(S);
  tobj *t = newtobj(S, "P");
  lng_obj fake;
  lng_obj_init(&fake, TKIND, tdestroy);
  lng_obj_ref(&fake);
  lng_proxy *lookalike = lua_newuserdatauv(S, sizeof *lookalike, 0);
  lookalike->obj = &fake;
  lookalike->tag = NULL;        /* same size and object, but no kind of ours */
  lua_setglobal(S, "FAKE");
  checkin(S, "getmetatable(P).__gc(FAKE) return true");
  cr_assert_eq(atomic_load(&fake.refs), 2);
  cr_assert_eq(refs(t), 1);
  lua_close(S);
  S = NULL;
  cr_assert_eq(destroyed, 1);
}


/* --------------------------------------------------------------- errors */

Test(copy, uncopyable_values) {
  cr_assert_str_eq(xfererr("return coroutine.create(print)", 1),
                   "cannot copy thread (at argument 1)");
  cr_assert_str_eq(xfererr("return {1, 2, coroutine.create(print)}", 0),
                   "cannot copy thread (at value [3])");
  cr_assert_str_eq(xfererr("return 1, {conn = io.stdout}", 1),
                   "cannot copy userdata 'FILE*' (at argument 2 .conn)");
  cr_assert_str_eq(xfererr("return 1, 2, io.stdout", 3),
                   "cannot copy userdata 'FILE*' (at argument 5)");
  lua_pushlightuserdata(S, &M);
  lua_setglobal(S, "LU");
  cr_assert_str_eq(xfererr("return {a = {b = LU}}", 1),
                   "cannot copy userdata (at argument 1 .a.b)");
}

Test(copy, error_paths) {
  run(S, "co = coroutine.create(print)");
  cr_assert_str_eq(xfererr("return {['a b'] = co}", 1),
                   "cannot copy thread (at argument 1 [\"a b\"])");
  cr_assert_str_eq(xfererr("return {['end'] = co}", 1),
                   "cannot copy thread (at argument 1 [\"end\"])");
  cr_assert_str_eq(xfererr("return {['q\"\\\\\\n\\0x'] = co}", 1),
                   "cannot copy thread (at argument 1 [\"q\\\"\\\\\\n\\000x\"])");
  cr_assert_str_eq(xfererr("return {[string.rep('x', 100)] = co}", 1),
                   "cannot copy thread (at argument 1 [\"xxxxxxxxxxxxxxxxxxxx"
                   "xxxxxxxxxxxxxxxxxxxx...\"])");
  cr_assert_str_eq(xfererr("return {[1.5] = co}", 1),
                   "cannot copy thread (at argument 1 [1.5])");
  cr_assert_str_eq(xfererr("return {[true] = co}", 1),
                   "cannot copy thread (at argument 1 [true])");
  cr_assert_str_eq(xfererr("return {[{}] = co}", 1),
                   "cannot copy thread (at argument 1 [table])");
  cr_assert_str_eq(xfererr("return {a = {[co] = 1}}", 1),
                   "cannot copy thread (at argument 1 .a key)");
  cr_assert_str_eq(xfererr("return {[{co}] = 1}", 1),
                   "cannot copy thread (at argument 1 key[1])");
  cr_assert_str_eq(xfererr("return setmetatable({}, {__index = {co}})", 1),
                   "cannot copy thread (at argument 1 metatable.__index[1])");
  cr_assert_str_eq(xfererr("local c = co return {f = function() return c end}", 1),
                   "cannot copy thread (at argument 1 .f upvalue 'c')");
  cr_assert_str_eq(xfererr("local t = {x = {co}} return function() return t end", 1),
                   "cannot copy thread (at argument 1 upvalue 't'.x[1])");
  cr_assert_str_eq(xfererr("local c = co local function f() return c end"
                           " local g = load(string.dump(f, true), nil, 'b')"
                           " debug.setupvalue(g, 1, c) return g", 1),
                   "cannot copy thread (at argument 1 upvalue '?')");
}

Test(copy, long_paths_are_truncated) {
  const char *e = xfererr("local t = {} local c = t for i = 1, 100 do"
                          " c['key' .. i] = {} c = c['key' .. i] end"
                          " c.last = coroutine.create(print) return t", 1);
  cr_assert(strlen(e) < 220, "message too long (%zu): %s", strlen(e), e);
  cr_assert(startswith(e, "cannot copy thread (at argument 1 .key1.key2.key3"), "%s", e);
  cr_assert(strstr(e, "...") != NULL, "%s", e);
  cr_assert(endswith(e, ".key99.key100.last)"), "%s", e);
}

static const char *chain (int n) {
  static char src[256];
  snprintf(src, sizeof src, "local t = {} local c = t for i = 2, %d do"
           " c[1] = {} c = c[1] end return t", n);
  return src;
}

Test(copy, depth_limit) {
  xfer(chain(190));
  check("local c, n = v1, 1 while c[1] do c, n = c[1], n + 1 end return n == 190");
  lng_msg_free(&M);
  xfer(chain(LNG_COPY_MAXDEPTH));
  check("local c, n = v1, 1 while c[1] do c, n = c[1], n + 1 end return n == 200");
  const char *e = xfererr(chain(LNG_COPY_MAXDEPTH + 1), 1);
  cr_assert(startswith(e, "cannot copy: value nested too deeply (at argument 1 [1][1][1]"),
            "%s", e);
  cr_assert(strstr(e, "...") != NULL && strlen(e) < 220, "%s", e);
  cr_assert(endswith(e, "[1][1])"), "%s", e);
}

Test(copy, depth_limit_through_functions) {
  /* a chain of 200 functions, each holding the next as an upvalue */
  xfer("local f = function() return 0 end"
       " for i = 1, 199 do local g = f f = function() return g() + 1 end end return f");
  check("return v1() == 199");
  const char *e = xfererr("local f = function() return 0 end"
       " for i = 1, 200 do local g = f f = function() return g() + 1 end end return f", 1);
  cr_assert(startswith(e, "cannot copy: value nested too deeply (at argument 1 upvalue 'g'"),
            "%s", e);
  cr_assert(endswith(e, "upvalue 'g')"), "%s", e);
}

Test(copy, message_out_of_memory) {
  /* A message at its largest (4 GiB) cannot grow: every reservation
     fails without allocating. */
  const char *srcs[] = {"return 'hello'", "return {}", "return function() end", "return 12345"};
  for (int i = 0; i < 4; i++) {
    lng_msg m;
    lng_msg_init(&m);
    m.ext = 1;
    m.u.x.bytes = NULL;
    m.u.x.refs = NULL;
    m.u.x.nrefs = 0;
    m.len = m.u.x.cap = UINT32_MAX;
    int first = lua_gettop(S) + 1;
    run(S, srcs[i]);
    cr_assert_eq(lng_copy_encode(S, first, 1, 0, 1, &m), -1);
    cr_assert_str_eq(lua_tostring(S, -1), "not enough memory to copy value");
    cr_assert_eq(lua_gettop(S), first + 1);
    lua_settop(S, first - 1);
    cr_assert_eq(m.u.x.nrefs, 0);
    lng_msg_init(&m);
  }
}

Test(copy, corrupt_messages_are_rejected) {
  run(S, "return {1, 2, function() return 3 end}");
  cr_assert_eq(lng_copy_encode(S, 1, 1, 0, 1, &M), 0);
  size_t len = M.len;
  for (size_t cut = 1; cut < len; cut++) {
    M.len = cut;
    int top = lua_gettop(R);
    cr_assert_eq(lng_copy_decode(R, &M, 0), -1, "truncated at %zu", cut);
    cr_assert_eq(lua_gettop(R), top + 1);
    lua_settop(R, top);
  }
  M.len = len;
  lng_msg bad;
  lng_msg_init(&bad);
  unsigned char junk = 0xee;
  cr_assert_eq(lng_msg_append(&bad, &junk, 1), 0);
  cr_assert_eq(lng_copy_decode(R, &bad, 0), -1);
  cr_assert_str_eq(lua_tostring(R, -1), "cannot decode value: corrupt message");
  lng_msg_free(&bad);
}


/* -------------------------------------------------------------- threads */

static void *decode_elsewhere (void *arg) {
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  lua_pushinteger(L, 42);
  lua_setglobal(L, "x");
  intptr_t ok = lng_copy_decode(L, arg, 0) == 1;
  if (ok) {
    lua_setglobal(L, "v1");
    ok = luaL_dostring(L, "return v1.f() == 42 and v1.t.t == v1.t") == LUA_OK &&
         lua_toboolean(L, -1);
  }
  lua_close(L);
  return (void *)ok;
}

Test(copy, decode_on_another_thread) {
  run(S, "local t = {} t.t = t return {f = function() return x end, t = t}");
  lua_rawgeti(S, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  cr_assert_eq(lng_copy_encode(S, 1, 1, 2, 1, &M), 0);
  pthread_t th;
  void *res;
  cr_assert_eq(pthread_create(&th, NULL, decode_elsewhere, &M), 0);
  cr_assert_eq(pthread_join(th, &res), 0);
  cr_assert(res == (void *)1);
}

/* ------------------------------------------------------------ code objects */

/* A function's code travels as a reference to one code object per closure:
   encoding it twice copies no code, and a message keeps its code alive
   after the sender's closure is gone. */
Test(copy, code_shared_by_messages_and_kept_by_them) {
  run(S, "F = function(a) return a * 3, debug.getinfo(1, 'S').short_src end");
  lng_msg m2;
  lng_msg_init(&m2);
  lua_getglobal(S, "F");
  cr_assert_eq(lng_copy_encode(S, -1, 1, 0, 1, &M), 0, "%s", lua_tostring(S, -1));
  cr_assert_eq(lng_copy_encode(S, -1, 1, 0, 1, &m2), 0, "%s", lua_tostring(S, -1));
  lua_pop(S, 1);
  cr_assert_eq(lng_msg_nrefs(&M), 1);
  cr_assert_eq(lng_msg_nrefs(&m2), 1);
  cr_assert_eq(lng_msg_ref(&M, 0), lng_msg_ref(&m2, 0), "both messages name the same code object");
  cr_assert_eq(lng_msg_ref(&M, 0)->kind, LNG_OBJ_CODE);
  cr_assert_lt(M.len, (size_t)LNG_MSG_INLINE, "the code is not in the bytes (%zu)", (size_t)M.len);
  /* the sender forgets the closure: its cache lets the code go, the
     messages still hold it */
  run(S, "F = nil collectgarbage() collectgarbage()");
  cr_assert_eq(atomic_load(&lng_msg_ref(&M, 0)->refs), 2);
  cr_assert_eq(lng_copy_decode(R, &m2, 0), 1);
  lua_setglobal(R, "G");
  check("local a, src = G(14) return a == 42 and src:find('string') ~= nil");
  lng_msg_free(&m2);
  cr_assert_eq(atomic_load(&lng_msg_ref(&M, 0)->refs), 1);
}

/* A message naming a code object with a forged index is corrupt. */
Test(copy, code_index_out_of_range_is_corrupt) {
  run(S, "F = function() return 1 end");
  lua_getglobal(S, "F");
  cr_assert_eq(lng_copy_encode(S, -1, 1, 0, 1, &M), 0);
  lua_pop(S, 1);
  unsigned char *b = lng_msg_bytes(&M);
  cr_assert_eq(b[0], 12 /* T_FUN */);
  b[2] = 5;                               /* refs[5] does not exist */
  cr_assert_eq(lng_copy_decode(R, &M, 0), -1);
  cr_assert_str_eq(lua_tostring(R, -1), "cannot decode value: corrupt message");
}

/* A loop spawning `go(function() ... end)` makes a new closure of one
   function each time: every message names one code object, which the
   sender keeps once, not once per closure. */
Test(copy, fresh_closures_of_one_function_share_code) {
  run(S, "local up = 7 MK = function() return function() return up end end");
  lng_msg m2;
  lng_msg_init(&m2);
  run(S, "return MK()");
  cr_assert_eq(lng_copy_encode(S, -1, 1, 0, 1, &M), 0, "%s", lua_tostring(S, -1));
  lua_pop(S, 1);
  run(S, "return MK()");
  cr_assert_eq(lng_copy_encode(S, -1, 1, 0, 1, &m2), 0, "%s", lua_tostring(S, -1));
  lua_pop(S, 1);
  cr_assert_eq(lng_msg_nrefs(&M), 1);
  cr_assert_eq(lng_msg_nrefs(&m2), 1);
  cr_assert_eq(lng_msg_ref(&M, 0), lng_msg_ref(&m2, 0), "two closures of one function name one code object");
  /* a different function is a different object */
  lng_msg m3;
  lng_msg_init(&m3);
  run(S, "return function() return 8 end");
  cr_assert_eq(lng_copy_encode(S, -1, 1, 0, 1, &m3), 0, "%s", lua_tostring(S, -1));
  lua_pop(S, 1);
  cr_assert_neq(lng_msg_ref(&m3, 0), lng_msg_ref(&M, 0));
  cr_assert_eq(lng_copy_decode(R, &m2, 0), 1);
  lua_setglobal(R, "G");
  check("return G() == 7");
  lng_msg_free(&m2);
  lng_msg_free(&m3);
}

/* ------------------------------------------------- stack limits */

/* A function with n upvalues (n <= 255; Lua allows 200 locals a function,
   so beyond that they come from two levels) holding 1..n, returning their
   sum. */
static const char *manyups (int n) {
  static char src[8192];
  size_t k = 0;
  int outer = n < 200 ? n : 200;
  for (int i = 1; i <= n; i++) {
    if (i == outer + 1) k += (size_t)snprintf(src + k, sizeof src - k, " return (function()");
    k += (size_t)snprintf(src + k, sizeof src - k, " local u%d = %d", i, i);
  }
  k += (size_t)snprintf(src + k, sizeof src - k, " return function() return 0");
  for (int i = 1; i <= n; i++) k += (size_t)snprintf(src + k, sizeof src - k, " + u%d", i);
  k += (size_t)snprintf(src + k, sizeof src - k, " end");
  if (n > outer) snprintf(src + k, sizeof src - k, " end)()");
  cr_assert_lt(k, sizeof src - 16);
  return src;
}

/* The receiver makes a closure with one stack slot per upvalue: decoded
   onto a stack with little room (a fresh thread's), again and again, each
   must stay within the stack and leave the state working. */
Test(copy, many_upvalues_onto_a_small_stack) {
  static const int ns[] = {1, 20, 40, 100, 200, 255};
  for (size_t j = 0; j < sizeof ns / sizeof ns[0]; j++) {
    int n = ns[j];
    lng_msg_free(&M);
    lng_msg_init(&M);
    run(S, manyups(n));
    cr_assert_eq(lng_copy_encode(S, -1, 1, 0, 1, &M), 0, "%s", lua_tostring(S, -1));
    lua_settop(S, 0);
    for (int r = 0; r < 4; r++) {
      lua_State *T = lua_newthread(R);
      cr_assert_eq(lng_copy_decode(T, &M, 0), 1, "%d upvalues: %s", n, lua_tostring(T, -1));
      cr_assert_eq(lua_gettop(T), 1);
      cr_assert_eq(lua_pcall(T, 0, 1, 0), LUA_OK, "%s", lua_tostring(T, -1));
      cr_assert_eq(lua_tointeger(T, -1), (lua_Integer)n * (n + 1) / 2, "%d upvalues", n);
      lua_pop(R, 1);
      lua_gc(R, LUA_GCCOLLECT);
    }
  }
  check("return x == 42 and type(print) == 'function'");
}

/* A message of more values than a Lua stack can hold (LUAI_MAXSTACK is a
   million slots) fails with an error naming the value, the stack as it was
   plus the message. */
Test(copy, more_values_than_a_stack_holds) {
  lng_scalar v = { .type = LNG_SCALAR_INTEGER, .i = 7 };
  for (int i = 0; i < 1100000; i++) cr_assert_eq(lng_copy_put_scalar(&M, &v), 0);
  lua_State *T = lua_newthread(R);
  lua_pushinteger(T, 1);
  cr_assert_eq(lng_copy_decode(T, &M, 0), -1);
  cr_assert_eq(lua_gettop(T), 2, "only the message is left");
  const char *e = lua_tostring(T, -1);
  cr_assert(e && startswith(e, "cannot copy value: stack overflow (at value "), "%s", e);
  cr_assert_eq(lua_tointeger(T, 1), 1);
  lua_pop(R, 1);
}


/* -------------------------------------------------------- packed arrays */

Test(copy, arrays_packed_forms) {
  xfer("local big = {} for i = 1, 100000 do big[i] = i - 50000 end"
       " return {1, 2.5, 'three', true, false, {4}, nil, 8},"          /* mixed, a hole */
       "        {nil, nil, 3, nil, 5},"                              /* leading holes */
       "        {1, [20] = 20, [30.5] = 'f', ['2'] = 's', x = 'y'},"  /* gaps, string '2' */
       "        {math.mininteger, math.maxinteger, -1, 0, 1 << 40},"
       "        {0.0, -0.0, 1/0, 2^53, 0/0},"
       "        big, {}");
  check("return v1[1] == 1 and math.type(v1[1]) == 'integer' and v1[2] == 2.5"
        " and v1[3] == 'three' and v1[4] == true and v1[5] == false and v1[6][1] == 4"
        " and v1[7] == nil and v1[8] == 8");
  check("return v2[1] == nil and v2[2] == nil and v2[3] == 3 and v2[4] == nil and v2[5] == 5");
  check("local n = 0 for _ in pairs(v3) do n = n + 1 end"
        " return n == 5 and v3[1] == 1 and v3[2] == nil and v3['2'] == 's' and v3[20] == 20"
        " and v3[30.5] == 'f' and v3.x == 'y'");
  check("return v4[1] == math.mininteger and v4[2] == math.maxinteger and v4[3] == -1"
        " and v4[4] == 0 and v4[5] == 1 << 40");
  check("return math.type(v5[1]) == 'float' and 1 / v5[2] == -1/0 and v5[3] == 1/0"
        " and v5[4] == 2^53 and v5[5] ~= v5[5]");
  check("if #v6 ~= 100000 then return false end"
        " for i = 1, 100000 do if v6[i] ~= i - 50000 then return false end end return true");
  check("return next(v7) == nil");
}

/* Integers of an array section go in runs of 4 or 8 bytes: the edges of
   the 32-bit range, runs that change width element by element, and
   floats with integral values (which must stay floats) between them. */
Test(copy, arrays_integer_widths) {
  xfer("local lo, hi = -(1 << 31), (1 << 31) - 1"
       " local w = {} for i = 1, 1000 do w[i] = (i % 3 == 0) and (hi + i) or"
       "   (i % 3 == 1) and (lo - i) or i end"
       " return {lo, hi, lo - 1, hi + 1, 0, -1, math.mininteger, math.maxinteger},"
       "        w, {1, 2.0, 3, 4.0, hi + 1, 5}");
  check("local lo, hi = -(1 << 31), (1 << 31) - 1"
        " local e = {lo, hi, lo - 1, hi + 1, 0, -1, math.mininteger, math.maxinteger}"
        " if #v1 ~= #e then return false end"
        " for i = 1, #e do if v1[i] ~= e[i] or math.type(v1[i]) ~= 'integer' then return false end end"
        " return true");
  check("local lo, hi = -(1 << 31), (1 << 31) - 1 if #v2 ~= 1000 then return false end"
        " for i = 1, 1000 do local x = (i % 3 == 0) and (hi + i) or (i % 3 == 1) and (lo - i) or i"
        "   if v2[i] ~= x or math.type(v2[i]) ~= 'integer' then return false end end return true");
  check("return #v3 == 6 and math.type(v3[1]) == 'integer' and math.type(v3[2]) == 'float'"
        " and math.type(v3[4]) == 'float' and v3[5] == (1 << 31) and v3[6] == 5");
}

/* Holes past the gap limit, and an array part whose tail Lua keeps in the
   hash part: every key still arrives, at its own place. */
Test(copy, arrays_sparse_and_split) {
  xfer("local t = {} for i = 1, 100 do t[i * 10] = i end"
       " local u = {1, 2, 3, 4} u.a = 1 u.b = 2 u.c = 3 u[5] = 5 u[6] = 6 u[7] = 7"
       " return t, u");
  check("local n = 0 for k, v in pairs(v1) do n = n + 1 if k ~= v * 10 then return false end end"
        " return n == 100");
  check("local n = 0 for _ in pairs(v2) do n = n + 1 end"
        " return n == 10 and v2[7] == 7 and v2[5] == 5 and #v2 == 7 and v2.c == 3");
}

Test(copy, arrays_of_tables_keep_sharing_and_metatables) {
  xfer("local mt = {__index = {kind = 'rec'}}"
       " local s = setmetatable({v = 's'}, mt)"
       " local list = {s, s, {s}, setmetatable({}, mt)}"
       " list[5] = list  list[6] = {list}  list.up = list[3]"
       " return list");
  check("return v1[1] == v1[2] and v1[3][1] == v1[1] and v1[5] == v1 and v1[6][1] == v1"
        " and v1.up == v1[3] and v1[1].kind == 'rec' and v1[4].kind == 'rec'"
        " and getmetatable(v1[1]) == getmetatable(v1[4])");
}

/* A list of records sends each field name once: the message holds the
   name's bytes once, and every record gets every field. */
Test(copy, record_keys_are_interned) {
  run(S, "local l = {} for i = 1, 1000 do"
         " l[i] = {a_long_field_name = i, another_field = 'v' .. i, [i % 7 == 0 and 'odd_key' or 'x'] = true}"
         " end return l");
  cr_assert_eq(lng_copy_encode(S, 1, 1, 0, 1, &M), 0);
  const unsigned char *b = lng_msg_cbytes(&M);
  int seen = 0;
  for (size_t i = 0; i + 17 <= M.len; i++)
    if (memcmp(b + i, "a_long_field_name", 17) == 0) seen++;
  cr_assert_eq(seen, 1, "field name written %d times", seen);
  cr_assert_lt(M.len, 1000 * 32, "message of %u bytes", (unsigned)M.len);
  lua_settop(S, 0);
  cr_assert_eq(lng_copy_decode(R, &M, 0), 1);
  setvals(1, 'v');
  lng_msg_free(&M);
  check("for i = 1, 1000 do local r = v1[i]"
        " if r.a_long_field_name ~= i or r.another_field ~= 'v' .. i then return false end"
        " if (i % 7 == 0) ~= (r.odd_key == true) or (i % 7 ~= 0) ~= (r.x == true) then return false end"
        " end return #v1 == 1000");
}

Test(copy, error_paths_in_packed_arrays) {
  run(S, "co = coroutine.create(print)");
  cr_assert_str_eq(xfererr("return {list = {1, 'two', {conn = co}}}", 1),
                   "cannot copy thread (at argument 1 .list[3].conn)");
  cr_assert_str_eq(xfererr("return {1, 2, nil, co}", 1),
                   "cannot copy thread (at argument 1 [4])");
  cr_assert_str_eq(xfererr("return {{}, {{}, {k = {x = 1, y = co}}}}", 1),
                   "cannot copy thread (at argument 1 [2][2].k.y)");
}

/* Decodes the bytes b (n of them) as a message: expects "corrupt". */
static void corrupt_bytes (const unsigned char *b, size_t n, const char *what) {
  lng_msg bad;
  lng_msg_init(&bad);
  cr_assert_eq(lng_msg_append(&bad, b, n), 0);
  int top = lua_gettop(R);
  cr_assert_eq(lng_copy_decode(R, &bad, 0), -1, "%s: decoded", what);
  cr_assert_eq(lua_gettop(R), top + 1);
  cr_assert_str_eq(lua_tostring(R, -1), "cannot decode value: corrupt message", "%s", what);
  lua_settop(R, top);
  lng_msg_free(&bad);
}

#define TAB(narr, nhash) LNG_TAG_TAB, (narr), 0, 0, 0, (nhash), 0, 0, 0
#define RUN(kind, n) (kind), (n), 0, 0, 0

Test(copy, corrupt_packed_forms_are_rejected) {
  /* every run kind and key form, cut short anywhere */
  run(S, "local r = {k = 1} return {1, 2.5, 's', true, {}, nil, 7, x = {k = 2}, y = r, z = r}");
  cr_assert_eq(lng_copy_encode(S, 1, 1, 0, 1, &M), 0);
  lua_settop(S, 0);
  size_t len = M.len;
  for (size_t cut = 1; cut < len; cut++) {
    M.len = cut;
    int top = lua_gettop(R);
    cr_assert_eq(lng_copy_decode(R, &M, 0), -1, "truncated at %zu", cut);
    lua_settop(R, top);
  }
  M.len = len;
  lng_msg_free(&M);
  { unsigned char b[] = { TAB(2, 0), RUN(LNG_RUN_I32, 3), 2, 0, 0, 0, 4, 0, 0, 0, 6, 0, 0, 0 };
    corrupt_bytes(b, sizeof b, "run longer than the array"); }
  { unsigned char b[] = { TAB(1, 0), RUN(LNG_RUN_I32, 0), RUN(LNG_RUN_I32, 1), 2, 0, 0, 0 };
    corrupt_bytes(b, sizeof b, "empty run"); }
  { unsigned char b[] = { TAB(1, 0), RUN(77, 1), 2 };
    corrupt_bytes(b, sizeof b, "unknown run kind"); }
  { unsigned char b[] = { TAB(10, 0), RUN(LNG_RUN_NIL, 9), RUN(LNG_RUN_I32, 1), 2, 0, 0, 0 };
    corrupt_bytes(b, sizeof b, "nil run past HOLEMAX"); }
  { unsigned char b[] = { TAB(1, 0), RUN(LNG_RUN_BOOL, 1), 2 };
    corrupt_bytes(b, sizeof b, "boolean byte 2"); }
  { unsigned char b[] = { TAB(1, 0), RUN(LNG_RUN_FLT, 1), 0, 0, 0, 0 };
    corrupt_bytes(b, sizeof b, "short float"); }
  { unsigned char b[] = { TAB(1, 0), RUN(LNG_RUN_I32, 1), 2, 0, 0 };
    corrupt_bytes(b, sizeof b, "short 32-bit integer"); }
  { unsigned char b[] = { TAB(2, 0), RUN(LNG_RUN_I64, 2), 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0 };
    corrupt_bytes(b, sizeof b, "short 64-bit integer"); }
  { unsigned char b[] = { TAB(1, 0), RUN(LNG_RUN_STR, 1), 5, 'a' };
    corrupt_bytes(b, sizeof b, "short string"); }
  { unsigned char b[] = { LNG_TAG_TAB, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0 };
    corrupt_bytes(b, sizeof b, "huge narr"); }
  { unsigned char b[] = { TAB(0, 1), LNG_TAG_KEY, 1, LNG_TAG_TRUE };
    corrupt_bytes(b, sizeof b, "KEY before any KDEF"); }
  { unsigned char b[] = { TAB(0, 2), LNG_TAG_KDEF, 1, 'a', LNG_TAG_TRUE, LNG_TAG_KEY, 1, LNG_TAG_TRUE };
    corrupt_bytes(b, sizeof b, "KEY naming a key not kept"); }
  { unsigned char b[] = { TAB(0, 1), LNG_TAG_KDEFK, 1, 'a', LNG_TAG_TRUE, LNG_TAG_KEY, 2 };
    corrupt_bytes(b, sizeof b, "KEY past the last key"); }
  { unsigned char b[] = { TAB(0, 1), LNG_TAG_STR, 1, 'a', TAB(0, 0), LNG_TAG_REF, 2 };
    corrupt_bytes(b, sizeof b, "REF to a table not kept"); }
  /* and the well-formed neighbours of those decode */
  { unsigned char b[] = { TAB(0, 2), LNG_TAG_KDEFK, 1, 'a', TAB(0, 1), LNG_TAG_KEY, 1, LNG_TAG_FALSE,
                          LNG_TAG_STR, 1, 'b', LNG_TAG_TRUE };
    lng_msg ok;
    lng_msg_init(&ok);
    cr_assert_eq(lng_msg_append(&ok, b, sizeof b), 0);
    cr_assert_eq(lng_copy_decode(R, &ok, 0), 1, "%s", lua_tostring(R, -1));
    setvals(1, 'v');
    lng_msg_free(&ok);
    check("return v1.a.a == false and v1.b == true"); }
}
