/*
 * The public C API: channels held by C (values, blocking, timeouts, close,
 * several C threads at once) and deadlock detection around them. See
 * test_capi.c for the conventions.
 */
#include "capi_util.h"

/* ------------------------------------------------------------------ */
/* channels: values                                                    */

static const char ECHO[] =
  "local inp, out = ...\n"
  "for v in inp:range() do\n"
  "  out:send(v)\n"
  "  local d = type(v)\n"
  "  if math.type(v) == 'integer' then d = 'integer:' .. v\n"
  "  elseif d == 'number' then d = 'float:' .. string.format('%.17g', v)\n"
  "  elseif d == 'string' then d = 'string:' .. #v\n"
  "  elseif d == 'boolean' then d = tostring(v)\n"
  "  elseif d == 'userdata' then d = tostring(v):match('^channel') or d end\n"
  "  out:send(d)\n"
  "end\n";

static void check_desc(lng_channel *out, const char *want) {
  char got[128];
  recv_str(out, got, sizeof got);
  cr_assert_str_eq(got, want);
}

Test(capi, values_c_to_lua_and_back, .timeout = T_TIMEOUT) {
  for (int i = 0; i < NCOUNTS; i++) {
    ctx c;
    lng_runtime *rt = new_rt(WORKER_COUNTS[i], 1, &c);
    lng_channel *inp = lng_channel_new(rt, 0), *out = lng_channel_new(rt, 2);
    lng_channel *other = lng_channel_new(rt, 1);
    cr_assert_eq(lng_start(rt), LNG_OK);
    lng_value args[2] = { lng_chanvalue(inp), lng_chanvalue(out) };
    cr_assert_gt(lng_spawn_string(rt, ECHO, sizeof ECHO - 1, "=echo", args, 2), 0);

    static const char bin[] = "a\0b\0\xff";
    char *big = malloc(100001);
    for (int k = 0; k < 100000; k++) big[k] = (char)(k % 251);
    big[100000] = 0;
    lng_value vals[] = {
      lng_boolean(1), lng_boolean(0), lng_boolean(42),
      lng_integer(0), lng_integer(-7), lng_integer(LLONG_MAX), lng_integer(LLONG_MIN),
      lng_number(1.5), lng_number(3.0), lng_number(-0.0), lng_number(1e300),
      lng_string(bin, 5), lng_string("", 0), lng_string(NULL, 0), lng_string(big, 100000),
      lng_chanvalue(other),
    };
    const char *desc[] = {
      "true", "false", "true",
      "integer:0", "integer:-7", "integer:9223372036854775807", "integer:-9223372036854775808",
      "float:1.5", "float:3", "float:-0", "float:1.0000000000000001e+300",
      "string:5", "string:0", "string:0", "string:100000",
      "channel",
    };
    int n = (int)(sizeof vals / sizeof vals[0]);
    for (int k = 0; k < n; k++) {
      cr_assert_eq(lng_send(inp, &vals[k], WAIT_SECS), LNG_OK, "value %d", k);
      lng_value back;
      cr_assert_eq(lng_recv(out, &back, WAIT_SECS), LNG_OK, "value %d", k);
      int want = vals[k].type;
      cr_assert_eq(back.type, want, "value %d came back as type %d", k, back.type);
      switch (want) {
        case LNG_TBOOLEAN: cr_assert_eq(back.boolean, vals[k].boolean != 0); break;
        case LNG_TINTEGER: cr_assert_eq(back.integer, vals[k].integer); break;
        case LNG_TNUMBER:
          cr_assert_eq(memcmp(&back.number, &vals[k].number, sizeof(double)), 0, "value %d", k);
          break;
        case LNG_TSTRING:
          cr_assert_eq(back.len, vals[k].len);
          cr_assert_not_null(back.string);
          cr_assert_eq(back.string[back.len], 0, "a received string ends with a 0");
          if (back.len) cr_assert_eq(memcmp(back.string, vals[k].string, back.len), 0);
          break;
        case LNG_TCHANNEL: {
          /* a handle of the same channel: usable both ways */
          cr_assert_not_null(back.channel);
          lng_value x = lng_integer(1234), y;
          cr_assert_eq(lng_send(back.channel, &x, 0), LNG_OK);
          cr_assert_eq(lng_recv(other, &y, 0), LNG_OK);
          cr_assert_eq(y.integer, 1234);
          cr_assert_eq(lng_send(other, &x, 0), LNG_OK);
          cr_assert_eq(lng_recv(back.channel, &y, 0), LNG_OK);
          cr_assert_eq(y.integer, 1234);
          break;
        }
      }
      lng_value_free(&back);
      cr_assert_eq(back.type, LNG_TNIL);
      check_desc(out, desc[k]);
    }
    free(big);
    cr_assert_eq(lng_close(inp), LNG_OK);
    cr_assert_eq(lng_stop(rt), LNG_OK);
    cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK, "%s", lng_message(rt));
    lng_channel_release(inp);
    lng_channel_release(out);
    lng_channel_release(other);
    lng_destroy(rt);
  }
}

Test(capi, values_lua_to_c, .timeout = T_TIMEOUT) {
  ctx c;
  lng_runtime *rt = new_rt(2, 0, &c);
  lng_channel *out = lng_channel_new(rt, 0);
  cr_assert_eq(set_chan(rt, "out", out), LNG_OK);
  cr_assert_eq(add_code(rt,
                        "out:send(1)\n"
                        "out:send(1.0)\n"
                        "out:send(2^63)\n"
                        "out:send(math.maxinteger)\n"
                        "out:send(math.mininteger)\n"
                        "out:send(-1.25)\n"
                        "out:send('a\\0b\\0')\n"
                        "out:send('')\n"
                        "out:send(true)\n"
                        "out:send(false)\n"
                        "local mine = chan(1)\n"
                        "out:send(mine)\n"
                        "out:send('got ' .. mine:recv())\n", "=main"), LNG_OK);
  cr_assert_eq(lng_start(rt), LNG_OK);
  lng_value v;
  cr_assert_eq(lng_recv(out, &v, WAIT_SECS), LNG_OK);
  cr_assert(v.type == LNG_TINTEGER && v.integer == 1);
  cr_assert_eq(lng_recv(out, &v, WAIT_SECS), LNG_OK);
  cr_assert(v.type == LNG_TNUMBER && v.number == 1.0, "1.0 came as type %d", v.type);
  cr_assert_eq(lng_recv(out, &v, WAIT_SECS), LNG_OK);
  cr_assert(v.type == LNG_TNUMBER && v.number == 9223372036854775808.0);
  cr_assert_eq(lng_recv(out, &v, WAIT_SECS), LNG_OK);
  cr_assert(v.type == LNG_TINTEGER && v.integer == LLONG_MAX);
  cr_assert_eq(lng_recv(out, &v, WAIT_SECS), LNG_OK);
  cr_assert(v.type == LNG_TINTEGER && v.integer == LLONG_MIN);
  cr_assert_eq(lng_recv(out, &v, WAIT_SECS), LNG_OK);
  cr_assert(v.type == LNG_TNUMBER && v.number == -1.25);
  cr_assert_eq(lng_recv(out, &v, WAIT_SECS), LNG_OK);
  cr_assert(v.type == LNG_TSTRING && v.len == 4 && memcmp(v.string, "a\0b\0", 5) == 0);
  lng_value_free(&v);
  cr_assert_eq(lng_recv(out, &v, WAIT_SECS), LNG_OK);
  cr_assert(v.type == LNG_TSTRING && v.len == 0 && v.string && v.string[0] == 0);
  lng_value_free(&v);
  cr_assert_eq(lng_recv(out, &v, WAIT_SECS), LNG_OK);
  cr_assert(v.type == LNG_TBOOLEAN && v.boolean == 1);
  cr_assert_eq(lng_recv(out, &v, WAIT_SECS), LNG_OK);
  cr_assert(v.type == LNG_TBOOLEAN && v.boolean == 0);
  /* a channel made in Lua, used from C */
  cr_assert_eq(lng_recv(out, &v, WAIT_SECS), LNG_OK);
  cr_assert_eq(v.type, LNG_TCHANNEL);
  lng_value x = lng_string("from C", 6);
  cr_assert_eq(lng_send(v.channel, &x, WAIT_SECS), LNG_OK);
  lng_value_free(&v);
  char got[64];
  recv_str(out, got, sizeof got);
  cr_assert_str_eq(got, "got from C");
  cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK, "%s", lng_message(rt));
  lng_channel_release(out);
  lng_destroy(rt);
}

Test(capi, set_global_values, .timeout = T_TIMEOUT) {
  ctx c;
  lng_runtime *rt = new_rt(2, 0, &c);
  lng_value v;
  v = lng_integer(3);
  cr_assert_eq(lng_set_global(rt, "gi", &v), LNG_OK);
  v = lng_number(3.0);
  cr_assert_eq(lng_set_global(rt, "gf", &v), LNG_OK);
  v = lng_string("x\0y", 3);
  cr_assert_eq(lng_set_global(rt, "gs", &v), LNG_OK);
  v = lng_boolean(1);
  cr_assert_eq(lng_set_global(rt, "gb", &v), LNG_OK);
  v = lng_integer(1);
  cr_assert_eq(lng_set_global(rt, "gn", &v), LNG_OK);
  v = lng_nil();
  cr_assert_eq(lng_set_global(rt, "gn", &v), LNG_OK);          /* nil unsets it */
  lng_channel *ch = lng_channel_new(rt, 64);
  cr_assert_eq(set_chan(rt, "gc", ch), LNG_OK);
  cr_assert_eq(add_code(rt,
                        "local function check()\n"
                        "  assert(math.type(gi) == 'integer' and gi == 3)\n"
                        "  assert(math.type(gf) == 'float' and gf == 3)\n"
                        "  assert(gs == 'x\\0y')\n"
                        "  assert(gb == true and gn == nil)\n"
                        "  gc:send(go.worker())\n"
                        "end\n"
                        "check()\n"
                        "local done = chan()\n"
                        "for i = 1, 16 do go(function() check() done:send(1) end) end\n"
                        "for i = 1, 16 do done:recv() end\n", "=main"), LNG_OK);
  cr_assert_eq(lng_start(rt), LNG_OK);
  cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK, "%s", lng_message(rt));
  for (int k = 0; k < 17; k++) {
    long long w = recv_int(ch);
    cr_assert(w == 1 || w == 2);
  }
  lng_channel_release(ch);
  lng_destroy(rt);
}

Test(capi, value_free, .timeout = T_TIMEOUT) {
  lng_value_free(NULL);
  lng_value v = lng_nil();
  lng_value_free(&v);
  cr_assert_eq(v.type, LNG_TNIL);
  v = lng_integer(5);
  lng_value_free(&v);
  cr_assert_eq(v.type, LNG_TNIL);
  cr_assert_eq(lng_boolean(7).boolean, 1);
  cr_assert_eq(lng_string("ab", 2).len, 2);
  cr_assert_eq(lng_number(2.5).type, LNG_TNUMBER);
  /* a received string and a received channel handle are owned */
  ctx c;
  lng_runtime *rt = new_rt(1, 0, &c);
  lng_channel *ch = lng_channel_new(rt, 2);
  v = lng_string("owned", 5);
  cr_assert_eq(lng_send(ch, &v, 0), LNG_OK);
  v = lng_chanvalue(ch);
  cr_assert_eq(lng_send(ch, &v, 0), LNG_OK);
  lng_value a, b;
  cr_assert_eq(lng_recv(ch, &a, 0), LNG_OK);
  cr_assert_eq(lng_recv(ch, &b, 0), LNG_OK);
  cr_assert_str_eq(a.string, "owned");
  cr_assert(b.type == LNG_TCHANNEL && b.channel != ch);
  lng_value_free(&a);
  lng_value_free(&b);
  cr_assert(a.type == LNG_TNIL && b.type == LNG_TNIL);
  lng_channel_release(ch);
  lng_destroy(rt);
}

/* ------------------------------------------------------------------ */
/* channels: blocking, timeouts, close                                 */

Test(capi, blocking_recv_and_send, .timeout = T_TIMEOUT) {
  for (int i = 0; i < NCOUNTS; i++) {
    ctx c;
    lng_runtime *rt = new_rt(WORKER_COUNTS[i], 0, &c);
    lng_channel *ch = lng_channel_new(rt, 0), *back = lng_channel_new(rt, 0);
    cr_assert_eq(set_chan(rt, "ch", ch), LNG_OK);
    cr_assert_eq(set_chan(rt, "back", back), LNG_OK);
    cr_assert_eq(add_code(rt,
                          "go.sleep(0.1)\n"
                          "ch:send('late')\n"
                          "go.sleep(0.1)\n"
                          "back:send(ch:recv() + 1)\n", "=main"), LNG_OK);
    /* Lower bounds only, from clock readings taken before the sleeps
       can start (a loaded machine may stall this thread anywhere). */
    double t0 = now_sec();
    cr_assert_eq(lng_start(rt), LNG_OK);
    lng_value v;
    double t1 = now_sec();          /* the second sleep starts after this recv takes 'late' */
    cr_assert_eq(lng_recv(ch, &v, -1), LNG_OK);           /* waits for the goroutine */
    cr_assert_geq(now_sec() - t0, 0.09);
    cr_assert_str_eq(v.string, "late");
    lng_value_free(&v);
    lng_value x = lng_integer(41);
    cr_assert_eq(lng_send(ch, &x, -1), LNG_OK);           /* unbuffered: until taken */
    cr_assert_geq(now_sec() - t1, 0.09);
    cr_assert_eq(recv_int(back), 42);
    cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK, "%s", lng_message(rt));
    lng_channel_release(ch);
    lng_channel_release(back);
    lng_destroy(rt);
  }
}

Test(capi, nonblocking, .timeout = T_TIMEOUT) {
  ctx c;
  lng_runtime *rt = new_rt(2, 1, &c);
  lng_channel *un = lng_channel_new(rt, 0), *buf = lng_channel_new(rt, 1);
  lng_value v, x = lng_integer(1);
  /* before the start too: only C is involved */
  cr_assert_eq(lng_recv(un, &v, 0), LNG_TIMEOUT);
  cr_assert_eq(v.type, LNG_TNIL);
  cr_assert_eq(lng_send(un, &x, 0), LNG_TIMEOUT);
  cr_assert_eq(lng_send(buf, &x, 0), LNG_OK);
  cr_assert_eq(lng_send(buf, &x, 0), LNG_TIMEOUT);        /* full */
  cr_assert_eq(lng_recv(buf, &v, 0), LNG_OK);
  cr_assert_eq(v.integer, 1);
  cr_assert_eq(lng_recv(buf, &v, 0), LNG_TIMEOUT);
  cr_assert_eq(lng_start(rt), LNG_OK);
  /* a goroutine waiting to receive: a non-blocking send completes */
  static const char code[] = "local un, buf = ...\nbuf:send(un:recv() * 2)\n";
  lng_value args[2] = { lng_chanvalue(un), lng_chanvalue(buf) };
  cr_assert_gt(lng_spawn_string(rt, code, sizeof code - 1, "=nb", args, 2), 0);
  x = lng_integer(21);
  cr_assert_eq(poll_send(un, &x), LNG_OK);
  cr_assert_eq(recv_int(buf), 42);
  /* a goroutine waiting to send: a non-blocking receive completes */
  static const char code2[] = "local un = ...\nun:send('ready')\n";
  cr_assert_gt(lng_spawn_string(rt, code2, sizeof code2 - 1, "=nb2", args, 1), 0);
  cr_assert_eq(poll_recv(un, &v), LNG_OK);
  cr_assert_str_eq(v.string, "ready");
  lng_value_free(&v);
  cr_assert_eq(lng_stop(rt), LNG_OK);
  cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK);
  lng_channel_release(un);
  lng_channel_release(buf);
  lng_destroy(rt);
}

Test(capi, timed, .timeout = T_TIMEOUT) {
  ctx c;
  lng_runtime *rt = new_rt(2, 1, &c);
  lng_channel *un = lng_channel_new(rt, 0), *buf = lng_channel_new(rt, 1);
  cr_assert_eq(lng_start(rt), LNG_OK);
  lng_value v, x = lng_integer(9);
  double t0 = now_sec();
  cr_assert_eq(lng_recv(un, &v, 0.05), LNG_TIMEOUT);
  double dt = now_sec() - t0;
  cr_assert_geq(dt, 0.045);
  cr_assert_lt(dt, 5.0);
  cr_assert_eq(v.type, LNG_TNIL);
  t0 = now_sec();
  cr_assert_eq(lng_send(un, &x, 0.05), LNG_TIMEOUT);
  dt = now_sec() - t0;
  cr_assert_geq(dt, 0.045);
  cr_assert_lt(dt, 5.0);
  cr_assert_eq(lng_send(buf, &x, 0), LNG_OK);
  cr_assert_eq(lng_send(buf, &x, 0.05), LNG_TIMEOUT);     /* full */
  cr_assert_eq(lng_recv(buf, &v, 0), LNG_OK);
  /* the value of a timed-out send is not delivered later */
  static const char code[] = "local un, buf = ...\n"
                             "buf:send('receiver up')\n"
                             "buf:send(un:recv())\n";
  lng_value args[2] = { lng_chanvalue(un), lng_chanvalue(buf) };
  cr_assert_gt(lng_spawn_string(rt, code, sizeof code - 1, "=t", args, 2), 0);
  char got[64];
  recv_str(buf, got, sizeof got);
  cr_assert_str_eq(got, "receiver up");
  x = lng_integer(10);
  /* a timed operation that completes in time */
  cr_assert_eq(lng_send(un, &x, 5.0), LNG_OK);
  cr_assert_eq(recv_int(buf), 10);
  static const char code2[] = "local un = ...\ngo.sleep(0.05)\nun:send(11)\n";
  cr_assert_gt(lng_spawn_string(rt, code2, sizeof code2 - 1, "=t2", args, 1), 0);
  cr_assert_eq(lng_recv(un, &v, 5.0), LNG_OK);
  cr_assert_eq(v.integer, 11);
  cr_assert_eq(lng_stop(rt), LNG_OK);
  cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK);
  lng_channel_release(un);
  lng_channel_release(buf);
  lng_destroy(rt);
}

typedef struct blocked_op {
  lng_channel *ch;
  int send, status, vtype;
  pthread_t t;
} blocked_op;

static void *blocked_op_main(void *p) {
  blocked_op *b = p;
  lng_value v = lng_integer(1);
  if (b->send) {
    b->status = lng_send(b->ch, &v, -1);
  } else {
    b->status = lng_recv(b->ch, &v, -1);
    b->vtype = v.type;
    lng_value_free(&v);
  }
  return NULL;
}

Test(capi, close, .timeout = T_TIMEOUT) {
  ctx c;
  lng_runtime *rt = new_rt(2, 1, &c);
  lng_channel *ch = lng_channel_new(rt, 2);
  lng_value v, x = lng_integer(1);
  cr_assert_eq(lng_send(ch, &x, 0), LNG_OK);
  cr_assert_eq(lng_close(ch), LNG_OK);
  cr_assert_eq(lng_close(ch), LNG_CLOSED);
  cr_assert_eq(lng_send(ch, &x, 0), LNG_CLOSED);
  cr_assert_eq(lng_send(ch, &x, -1), LNG_CLOSED);
  cr_assert_eq(lng_recv(ch, &v, 0), LNG_OK);             /* buffered values first */
  cr_assert_eq(v.integer, 1);
  v = lng_integer(99);
  cr_assert_eq(lng_recv(ch, &v, 0), LNG_CLOSED);
  cr_assert_eq(v.type, LNG_TNIL);
  cr_assert_eq(lng_recv(ch, &v, -1), LNG_CLOSED);
  cr_assert_eq(lng_recv(ch, &v, 0.05), LNG_CLOSED);
  lng_channel_release(ch);

  /* closing wakes C threads blocked on both sides */
  lng_channel *r = lng_channel_new(rt, 0), *s = lng_channel_new(rt, 0);
  blocked_op br = { .ch = r, .send = 0 }, bs = { .ch = s, .send = 1 };
  pthread_create(&br.t, NULL, blocked_op_main, &br);
  pthread_create(&bs.t, NULL, blocked_op_main, &bs);
  sleep_ms(50);
  cr_assert_eq(lng_close(r), LNG_OK);
  cr_assert_eq(lng_close(s), LNG_OK);
  pthread_join(br.t, NULL);
  pthread_join(bs.t, NULL);
  cr_assert_eq(br.status, LNG_CLOSED);
  cr_assert_eq(br.vtype, LNG_TNIL);
  cr_assert_eq(bs.status, LNG_CLOSED);
  lng_channel_release(r);
  lng_channel_release(s);

  /* Lua closes, C sees it; C closes, Lua sees it */
  cr_assert_eq(lng_start(rt), LNG_OK);
  lng_channel *a = lng_channel_new(rt, 0), *b = lng_channel_new(rt, 0), *rep = lng_channel_new(rt, 4);
  static const char code[] =
    "local a, b, rep = ...\n"
    "a:send('before close')\n"
    "a:close()\n"
    "local v, ok = b:recv()\n"
    "rep:send(tostring(v) .. ' ' .. tostring(ok))\n"
    "local ok2, err = pcall(b.send, b, 1)\n"
    "rep:send(tostring(err))\n"
    "local ok3, err3 = pcall(b.close, b)\n"
    "rep:send(tostring(err3))\n";
  lng_value args[3] = { lng_chanvalue(a), lng_chanvalue(b), lng_chanvalue(rep) };
  cr_assert_gt(lng_spawn_string(rt, code, sizeof code - 1, "=close", args, 3), 0);
  cr_assert_eq(lng_recv(a, &v, WAIT_SECS), LNG_OK);
  lng_value_free(&v);
  cr_assert_eq(lng_recv(a, &v, WAIT_SECS), LNG_CLOSED);
  sleep_ms(20);                                           /* most likely in b:recv() by now */
  cr_assert_eq(lng_close(b), LNG_OK);
  char got[128];
  recv_str(rep, got, sizeof got);
  cr_assert_str_eq(got, "nil false");
  recv_str(rep, got, sizeof got);
  cr_assert(contains(got, "send on closed channel"), "%s", got);
  recv_str(rep, got, sizeof got);
  cr_assert(contains(got, "close of closed channel"), "%s", got);
  /* a goroutine blocked sending when C closes raises */
  static const char code2[] =
    "local a, rep = ...\n"
    "rep:send(select(2, pcall(a.send, a, 'x')))\n";
  lng_channel *d = lng_channel_new(rt, 0);
  lng_value args2[2] = { lng_chanvalue(d), lng_chanvalue(rep) };
  cr_assert_gt(lng_spawn_string(rt, code2, sizeof code2 - 1, "=close2", args2, 2), 0);
  sleep_ms(20);                                           /* most likely in a:send() by now */
  cr_assert_eq(lng_close(d), LNG_OK);
  recv_str(rep, got, sizeof got);
  cr_assert(contains(got, "send on closed channel"), "%s", got);
  cr_assert_eq(lng_stop(rt), LNG_OK);
  cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK);
  lng_channel_release(a);
  lng_channel_release(b);
  lng_channel_release(d);
  lng_channel_release(rep);
  lng_destroy(rt);
}

/* (tables and functions from Lua: test_capi_contract.c, encoded values) */

/* ------------------------------------------------------------------ */
/* several C threads at once                                           */

#define NT 4
#define PER 2000

typedef struct cthread {
  pthread_t t;
  lng_channel *ch;
  int index;
  int bad;                      /* a failing status or value */
  long long count, sum;
} cthread;

static void *c_sender(void *p) {
  cthread *c = p;
  for (int i = 0; i < PER; i++) {
    lng_value v = lng_integer((long long)c->index * PER + i + 1);
    if (lng_send(c->ch, &v, -1) != LNG_OK) { c->bad++; break; }
    c->count++;
    c->sum += v.integer;
  }
  return NULL;
}

static void *c_receiver(void *p) {
  cthread *c = p;
  for (;;) {
    lng_value v;
    int st = lng_recv(c->ch, &v, -1);
    if (st == LNG_CLOSED) break;
    if (st != LNG_OK || v.type != LNG_TINTEGER) { c->bad++; lng_value_free(&v); continue; }
    c->count++;
    c->sum += v.integer;
  }
  return NULL;
}

static const long long TOTAL_SUM = (long long)NT * PER * (NT * PER + 1) / 2;

Test(capi, threads_through_lua, .timeout = T_TIMEOUT) {
  for (int i = 0; i < NCOUNTS; i++) {
    ctx c;
    lng_runtime *rt = new_rt(WORKER_COUNTS[i], 0, &c);
    lng_channel *inp = lng_channel_new(rt, 8), *out = lng_channel_new(rt, i == 0 ? 0 : 8);
    cr_assert_eq(set_chan(rt, "inp", inp), LNG_OK);
    cr_assert_eq(set_chan(rt, "out", out), LNG_OK);
    cr_assert_eq(add_code(rt,
                          "local done = chan()\n"
                          "for i = 1, 6 do\n"
                          "  go(function(inp, out)\n"
                          "    for v in inp:range() do out:send(c_square(1) * v * 2) end\n"
                          "    done:send(true)\n"
                          "  end, inp, out)\n"
                          "end\n"
                          "for i = 1, 6 do done:recv() end\n"
                          "out:close()\n", "=main"), LNG_OK);
    cr_assert_eq(lng_start(rt), LNG_OK);
    cthread snd[NT], rcv[NT];
    memset(snd, 0, sizeof snd);
    memset(rcv, 0, sizeof rcv);
    for (int k = 0; k < NT; k++) {
      snd[k].ch = inp; snd[k].index = k;
      rcv[k].ch = out; rcv[k].index = k;
      cr_assert_eq(pthread_create(&rcv[k].t, NULL, c_receiver, &rcv[k]), 0);
      cr_assert_eq(pthread_create(&snd[k].t, NULL, c_sender, &snd[k]), 0);
    }
    long long scount = 0, ssum = 0, rcount = 0, rsum = 0;
    int bad = 0;
    for (int k = 0; k < NT; k++) {
      pthread_join(snd[k].t, NULL);
      scount += snd[k].count; ssum += snd[k].sum; bad += snd[k].bad;
    }
    cr_assert_eq(lng_close(inp), LNG_OK);
    for (int k = 0; k < NT; k++) {
      pthread_join(rcv[k].t, NULL);
      rcount += rcv[k].count; rsum += rcv[k].sum; bad += rcv[k].bad;
    }
    cr_assert_eq(bad, 0);
    cr_assert_eq(scount, NT * PER);
    cr_assert_eq(ssum, TOTAL_SUM);
    cr_assert_eq(rcount, NT * PER);
    cr_assert_eq(rsum, 2 * TOTAL_SUM);
    cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK, "%s", lng_message(rt));
    lng_channel_release(inp);
    lng_channel_release(out);
    lng_destroy(rt);
  }
}

Test(capi, threads_c_to_c, .timeout = T_TIMEOUT) {
  /* C threads on both sides of one channel, no goroutine involved */
  for (size_t cap = 0; cap <= 16; cap += 16) {
    ctx c;
    lng_runtime *rt = new_rt(1, 1, &c);
    lng_channel *ch = lng_channel_new(rt, cap);
    cr_assert_eq(lng_start(rt), LNG_OK);
    cthread snd[NT], rcv[NT];
    memset(snd, 0, sizeof snd);
    memset(rcv, 0, sizeof rcv);
    for (int k = 0; k < NT; k++) {
      snd[k].ch = ch; snd[k].index = k;
      rcv[k].ch = ch; rcv[k].index = k;
      pthread_create(&rcv[k].t, NULL, c_receiver, &rcv[k]);
      pthread_create(&snd[k].t, NULL, c_sender, &snd[k]);
    }
    for (int k = 0; k < NT; k++) pthread_join(snd[k].t, NULL);
    cr_assert_eq(lng_close(ch), LNG_OK);
    long long rcount = 0, rsum = 0;
    int bad = 0;
    for (int k = 0; k < NT; k++) {
      pthread_join(rcv[k].t, NULL);
      rcount += rcv[k].count; rsum += rcv[k].sum; bad += rcv[k].bad + snd[k].bad;
    }
    cr_assert_eq(bad, 0);
    cr_assert_eq(rcount, NT * PER);
    cr_assert_eq(rsum, TOTAL_SUM);
    cr_assert_eq(lng_stop(rt), LNG_OK);
    cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK);
    lng_channel_release(ch);
    lng_destroy(rt);
  }
}

/* ------------------------------------------------------------------ */
/* deadlock detection and channels held by C                           */

Test(capi, held_channel_is_not_a_deadlock, .timeout = T_TIMEOUT) {
  for (int i = 0; i < NCOUNTS; i++) {
    ctx c;
    lng_runtime *rt = new_rt(WORKER_COUNTS[i], 0, &c);
    lng_channel *ch = lng_channel_new(rt, 0), *g = lng_channel_new(rt, 0);
    cr_assert_eq(set_chan(rt, "ch", ch), LNG_OK);
    cr_assert_eq(set_chan(rt, "g", g), LNG_OK);
    cr_assert_eq(add_code(rt,
                          "go(function() g:send(g:recv() + 1) end)\n"
                          "local v = ch:recv()\n"
                          "assert(v == 'wake', v)\n", "=main"), LNG_OK);
    cr_assert_eq(lng_start(rt), LNG_OK);
    cr_assert(wait_blocked(rt, WAIT_SECS));
    sleep_ms(100);
    cr_assert_eq(lng_status(rt), LNG_OK, "reported: %s", lng_message(rt));
    cr_assert_eq(lng_blocked(rt), 1);
    lng_value x = lng_integer(1);
    cr_assert_eq(lng_send(g, &x, WAIT_SECS), LNG_OK);
    cr_assert_eq(recv_int(g), 2);
    cr_assert(wait_blocked(rt, WAIT_SECS));
    sleep_ms(50);
    cr_assert_eq(lng_status(rt), LNG_OK, "reported: %s", lng_message(rt));
    x = lng_string("wake", 4);
    cr_assert_eq(lng_send(ch, &x, WAIT_SECS), LNG_OK);
    cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK, "%s", lng_message(rt));
    lng_channel_release(ch);
    lng_channel_release(g);
    lng_destroy(rt);
  }
}

Test(capi, released_channel_is_a_deadlock, .timeout = T_TIMEOUT) {
  for (int i = 0; i < NCOUNTS; i++) {
    ctx c;
    lng_runtime *rt = new_rt(WORKER_COUNTS[i], 0, &c);
    lng_channel *ch = lng_channel_new(rt, 0);
    lng_channel *other = lng_channel_new(rt, 0);          /* held, but nobody waits on it */
    cr_assert_eq(set_chan(rt, "ch", ch), LNG_OK);
    cr_assert_eq(add_code(rt, "go(function() ch:recv() end)\nch:recv()\n", "=main"), LNG_OK);
    cr_assert_eq(lng_start(rt), LNG_OK);
    cr_assert(wait_blocked(rt, WAIT_SECS));
    sleep_ms(50);
    cr_assert_eq(lng_status(rt), LNG_OK);
    lng_channel_release(ch);
    /* `other` is still held: C could still wake someone through it only if
       it reached them, but holding any channel counts as a possible waker */
    sleep_ms(50);
    cr_assert_eq(lng_status(rt), LNG_OK);
    lng_channel_release(other);
    int st = wait_for(rt, WAIT_SECS);
    cr_assert_eq(st, LNG_DEADLOCK, "%s: %s", lng_status_string(st), lng_message(rt));
    cr_assert(contains(lng_message(rt), "goroutine 1 [chan receive]:\n\tmain:2"), "%s",
              lng_message(rt));
    cr_assert(contains(lng_message(rt), "[chan receive]:\n\tmain:1"), "%s", lng_message(rt));
    lng_destroy(rt);
  }
}

Test(capi, received_handle_holds, .timeout = T_TIMEOUT) {
  /* a handle that C received from Lua also keeps the program alive */
  ctx c;
  lng_runtime *rt = new_rt(2, 0, &c);
  lng_channel *out = lng_channel_new(rt, 1);
  cr_assert_eq(set_chan(rt, "out", out), LNG_OK);
  cr_assert_eq(add_code(rt, "local mine = chan()\nout:send(mine)\nout = nil\n"
                            "assert(mine:recv() == 'hello')\n", "=main"), LNG_OK);
  cr_assert_eq(lng_start(rt), LNG_OK);
  lng_value v;
  cr_assert_eq(lng_recv(out, &v, WAIT_SECS), LNG_OK);
  cr_assert_eq(v.type, LNG_TCHANNEL);
  lng_channel_release(out);
  cr_assert(wait_blocked(rt, WAIT_SECS));
  sleep_ms(50);
  cr_assert_eq(lng_status(rt), LNG_OK, "%s", lng_message(rt));
  lng_value hello = lng_string("hello", 5);
  cr_assert_eq(lng_send(v.channel, &hello, WAIT_SECS), LNG_OK);
  cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK, "%s", lng_message(rt));
  lng_value_free(&v);
  lng_destroy(rt);
}
