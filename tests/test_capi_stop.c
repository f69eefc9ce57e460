/*
 * The public C API: shutdown with goroutines blocked or spinning, two
 * runtimes at once, misuse, lng_interrupt and lng_blocked,
 * lng_status_string, and the samples/embed program. See test_capi.c for
 * the conventions.
 */
#include "capi_util.h"
#include "watchdog.h"

/* ------------------------------------------------------------------ */
/* shutdown                                                            */

static const char BLOCKERS[] =
  "local a, b, c = chan(), chan(), chan(1)\n"
  "c:send(0)\n"
  "local wg = go.waitgroup()\n"
  "wg:add(1)\n"
  "go(function() ready:send('recv') a:recv() end)\n"
  "go(function() ready:send('send') b:send(1) end)\n"
  "go(function() ready:send('full') c:send(2) end)\n"
  "go(function() ready:send('sleep') go.sleep(1000) end)\n"
  "go(function() ready:send('select') go.select(a, b) end)\n"
  "go(function() ready:send('wg') wg:wait() end)\n"
  "go(function() ready:send('held') held:recv() end)\n"
  "go(function() ready:send('nested') coroutine.wrap(function() a:recv() end)() end)\n"
  "for i = 1, 200 do go(function() a:recv() end) end\n"
  "ready:send('main')\n"
  "held:recv()\n";
#define NBLOCKERS 9

Test(capi, destroy_with_blocked_goroutines, .timeout = T_TIMEOUT) {
  for (int i = 0; i < NCOUNTS; i++) {
    for (int stop = 0; stop <= 1; stop++) {
      ctx c;
      lng_runtime *rt = new_rt(WORKER_COUNTS[i], 0, &c);
      lng_channel *ready = lng_channel_new(rt, 0), *held = lng_channel_new(rt, 0);
      cr_assert_eq(set_chan(rt, "ready", ready), LNG_OK);
      cr_assert_eq(set_chan(rt, "held", held), LNG_OK);
      cr_assert_eq(add_code(rt, BLOCKERS, "=blockers"), LNG_OK);
      cr_assert_eq(lng_start(rt), LNG_OK);
      char got[32];
      for (int k = 0; k < NBLOCKERS; k++) recv_str(ready, got, sizeof got);
      sleep_ms(50);
      cr_assert_eq(lng_status(rt), LNG_OK, "%s", lng_message(rt));
      cr_assert_eq(lng_blocked(rt), 0);                   /* the sleep's timer is pending */
      lng_channel_release(ready);
      lng_channel_release(held);
      if (stop) {
        cr_assert_eq(lng_stop(rt), LNG_OK);
        cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK);
      }
      double t0 = now_sec();
      lng_destroy(rt);
      cr_assert_lt(now_sec() - t0, 10.0);
    }
  }
}

Test(capi, destroy_with_endless_loops, .timeout = T_TIMEOUT) {
  SKIP_UNDER_TSAN();
  for (int i = 0; i < NCOUNTS; i++) {
    int n = WORKER_COUNTS[i];
    ctx c;
    lng_runtime *rt = new_rt(n, 0, &c);
    lng_channel *ready = lng_channel_new(rt, 0);
    cr_assert_eq(set_chan(rt, "ready", ready), LNG_OK);
    char code[768];
    snprintf(code, sizeof code,
             "for i = 1, %d do\n"
             "  go(function() ready:send(i) while true do end end)\n"
             "end\n"
             "go(function() ready:send(0) while true do pcall(function() while true do end end) end end)\n"
             "go(function() ready:send(0) local t = {3, 2, 1}\n"
             "  table.sort(t, function(a, b) while true do end end) end)\n"
             "ready:send(-1)\n"
             "while true do end\n", n);
    cr_assert_eq(add_code(rt, code, "=loops"), LNG_OK);
    cr_assert_eq(lng_start(rt), LNG_OK);
    /* with n workers only n of the n + 3 spinners can run: wait for the
       main chunk and n - 1 others (each worker is busy, then) */
    lng_value v;
    for (int k = 0; k < n; k++) cr_assert_eq(lng_recv(ready, &v, WAIT_SECS), LNG_OK);
    sleep_ms(20);
    cr_assert_eq(lng_status(rt), LNG_OK, "%s", lng_message(rt));
    lng_channel_release(ready);
    double t0 = now_sec();
    lng_destroy(rt);
    cr_assert_lt(now_sec() - t0, 10.0);
  }
}

Test(capi, destroy_after_error_with_spinning_goroutine, .timeout = T_TIMEOUT) {
  SKIP_UNDER_TSAN();
  /* A goroutine keeps its worker while it spins (no preemption): the
     failing one is spawned once the spinner runs, so another worker takes it. */
  ctx c;
  lng_runtime *rt = new_rt(2, 1, &c);
  lng_channel *ready = lng_channel_new(rt, 0);
  cr_assert_eq(lng_start(rt), LNG_OK);
  static const char spin[] = "local ready = ...\nready:send(1)\nwhile true do end\n";
  static const char fail[] = "error('stop')";
  lng_value arg = lng_chanvalue(ready);
  cr_assert_gt(lng_spawn_string(rt, spin, sizeof spin - 1, "=spin", &arg, 1), 0);
  cr_assert_eq(recv_int(ready), 1);
  cr_assert_gt(lng_spawn_string(rt, fail, sizeof fail - 1, "=fail", NULL, 0), 0);
  cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_ERRRUN, "%s", lng_message(rt));
  cr_assert(contains(lng_message(rt), "fail:1: stop"), "%s", lng_message(rt));
  lng_channel_release(ready);
  double t0 = now_sec();
  lng_destroy(rt);
  cr_assert_lt(now_sec() - t0, 10.0);
}

/* ------------------------------------------------------------------ */
/* two runtimes                                                        */

Test(capi, two_runtimes, .timeout = T_TIMEOUT) {
  ctx ca, cb;
  lng_runtime *a = new_rt(2, 0, &ca);
  lng_runtime *b = new_rt(2, 1, &cb);
  lng_channel *outa = lng_channel_new(a, 0), *outb = lng_channel_new(b, 0);
  cr_assert_eq(set_chan(a, "out", outa), LNG_OK);
  cr_assert_eq(set_chan(b, "out", outb), LNG_OK);
  lng_value tag = lng_string("A", 1);
  cr_assert_eq(lng_set_global(a, "tag", &tag), LNG_OK);
  tag = lng_string("B", 1);
  cr_assert_eq(lng_set_global(b, "tag", &tag), LNG_OK);
  static const char code[] =
    "local res = chan()\n"
    "for i = 1, 100 do go(function(k) res:send(c_square(k)) end, i) end\n"
    "local sum = 0\n"
    "for i = 1, 100 do sum = sum + res:recv() end\n"
    "out:send(tag .. go.id() .. ':' .. sum)\n";
  cr_assert_eq(add_code(a, code, "=a"), LNG_OK);
  cr_assert_eq(add_code(a, "os.exit(4)", "=a2"), LNG_OK);
  cr_assert_eq(add_code(b, code, "=b"), LNG_OK);
  cr_assert_eq(lng_start(a), LNG_OK);
  cr_assert_eq(lng_start(b), LNG_OK);
  char got[64];
  recv_str(outb, got, sizeof got);
  cr_assert_str_eq(got, "B1:338350");
  recv_str(outa, got, sizeof got);
  cr_assert_str_eq(got, "A1:338350");
  cr_assert_eq(wait_for(a, WAIT_SECS), LNG_EXIT);
  cr_assert_eq(lng_exit_code(a), 4);
  /* b is not affected by a's end */
  cr_assert_eq(lng_status(b), LNG_OK);
  lng_value args[2] = { lng_chanvalue(outb), lng_integer(12) };
  cr_assert_gt(lng_spawn(b, "gsquare", args, 2), 0);
  cr_assert_eq(recv_int(outb), 144);
  lng_channel_release(outa);
  lng_destroy(a);
  cr_assert_gt(lng_spawn(b, "cmod.triple", args, 2), 0);
  cr_assert_eq(recv_int(outb), 36);
  cr_assert_eq(lng_stop(b), LNG_OK);
  cr_assert_eq(wait_for(b, WAIT_SECS), LNG_OK);
  lng_channel_release(outb);
  lng_destroy(b);
}

/* ------------------------------------------------------------------ */
/* misuse                                                              */

Test(capi, misuse_null, .timeout = T_TIMEOUT) {
  lng_value v = lng_integer(1), out;
  char arg0[] = "x";
  char *argv[] = { arg0, NULL };
  cr_assert_eq(lng_main_string(NULL, "x=1", 3, NULL), LNG_ERRMISUSE);
  cr_assert_eq(lng_main_file(NULL, "x.lua"), LNG_ERRMISUSE);
  cr_assert_eq(lng_main_require(NULL, "m", NULL), LNG_ERRMISUSE);
  cr_assert_eq(lng_main_args(NULL, 1, argv, 0), LNG_ERRMISUSE);
  cr_assert_eq(lng_start(NULL), LNG_ERRMISUSE);
  cr_assert_eq(lng_wait(NULL), LNG_ERRMISUSE);
  cr_assert_eq(lng_status(NULL), LNG_ERRMISUSE);
  cr_assert_eq(lng_exit_code(NULL), 1);
  cr_assert_str_eq(lng_message(NULL), "");
  cr_assert_eq(lng_interrupt(NULL), LNG_ERRMISUSE);
  cr_assert_eq(lng_blocked(NULL), 0);
  cr_assert_eq(lng_stop(NULL), LNG_ERRMISUSE);
  lng_destroy(NULL);
  cr_assert_null(lng_channel_new(NULL, 1));
  lng_channel_release(NULL);
  cr_assert_eq(lng_close(NULL), LNG_ERRMISUSE);
  cr_assert_eq(lng_send(NULL, &v, 0), LNG_ERRMISUSE);
  cr_assert_eq(lng_recv(NULL, &out, 0), LNG_ERRMISUSE);
  cr_assert_eq(lng_set_global(NULL, "g", &v), LNG_ERRMISUSE);
  cr_assert_eq(lng_spawn(NULL, "f", &v, 1), -LNG_ERRMISUSE);
  cr_assert_eq(lng_spawn_string(NULL, "x=1", 3, NULL, NULL, 0), -LNG_ERRMISUSE);

  ctx c;
  lng_runtime *rt = new_rt(1, 1, &c);
  lng_channel *ch = lng_channel_new(rt, 1);
  cr_assert_eq(lng_main_string(rt, NULL, 3, NULL), LNG_ERRMISUSE);
  cr_assert_eq(lng_main_require(rt, NULL, "g"), LNG_ERRMISUSE);
  cr_assert_eq(lng_main_args(rt, -1, argv, 0), LNG_ERRMISUSE);
  cr_assert_eq(lng_main_args(rt, 1, argv, 2), LNG_ERRMISUSE);
  cr_assert_eq(lng_main_args(rt, 1, NULL, 0), LNG_ERRMISUSE);
  cr_assert_eq(lng_send(ch, NULL, 0), LNG_ERRMISUSE);
  cr_assert_eq(lng_recv(ch, NULL, 0), LNG_ERRMISUSE);
  cr_assert_eq(lng_set_global(rt, NULL, &v), LNG_ERRMISUSE);
  cr_assert_eq(lng_set_global(rt, "g", NULL), LNG_ERRMISUSE);
  cr_assert_eq(lng_spawn(rt, NULL, NULL, 0), -LNG_ERRMISUSE);
  cr_assert_eq(lng_spawn(rt, "f", NULL, 1), -LNG_ERRMISUSE);
  cr_assert_eq(lng_spawn(rt, "f", &v, -1), -LNG_ERRMISUSE);
  cr_assert_eq(lng_spawn_string(rt, NULL, 3, NULL, NULL, 0), -LNG_ERRMISUSE);
  cr_assert_eq(lng_spawn_string(rt, "x=1", 3, NULL, NULL, 2), -LNG_ERRMISUSE);
  /* values that cannot be sent */
  lng_value nil = lng_nil();
  cr_assert_eq(lng_send(ch, &nil, 0), LNG_ERRMISUSE);
  cr_assert_eq(lng_send(ch, &nil, -1), LNG_ERRMISUSE);
  lng_value badstr = lng_string(NULL, 3);
  cr_assert_eq(lng_send(ch, &badstr, 0), LNG_ERRMISUSE);
  lng_value badch = lng_chanvalue(NULL);
  cr_assert_eq(lng_send(ch, &badch, 0), LNG_ERRMISUSE);
  lng_value badtype = { .type = 99 };
  cr_assert_eq(lng_send(ch, &badtype, 0), LNG_ERRMISUSE);
  cr_assert_eq(lng_set_global(rt, "g", &badtype), LNG_ERRMISUSE);
  cr_assert_eq(lng_spawn(rt, "f", &badtype, 1), -LNG_ERRMISUSE);
  /* nothing of the above reached the channel */
  cr_assert_eq(lng_recv(ch, &out, 0), LNG_TIMEOUT);
  lng_channel_release(ch);
  lng_destroy(rt);
}

Test(capi, misuse_after_start, .timeout = T_TIMEOUT) {
  ctx c;
  lng_runtime *rt = new_rt(2, 1, &c);
  char arg0[] = "x";
  char *argv[] = { arg0, NULL };
  lng_value v = lng_integer(1);
  cr_assert_eq(lng_start(rt), LNG_OK);
  cr_assert_eq(lng_start(rt), LNG_ERRMISUSE);
  cr_assert_eq(add_code(rt, "x = 1", "=late"), LNG_ERRMISUSE);
  cr_assert_eq(lng_main_file(rt, "x.lua"), LNG_ERRMISUSE);
  cr_assert_eq(lng_main_file(rt, NULL), LNG_ERRMISUSE);
  cr_assert_eq(lng_main_require(rt, "cmod", NULL), LNG_ERRMISUSE);
  cr_assert_eq(lng_main_args(rt, 1, argv, 0), LNG_ERRMISUSE);
  cr_assert_eq(lng_set_global(rt, "g", &v), LNG_ERRMISUSE);
  cr_assert_eq(lng_stop(rt), LNG_OK);
  cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK);
  cr_assert_eq(lng_wait(rt), LNG_OK);                        /* again: the same outcome */
  cr_assert_eq(lng_spawn(rt, "gsquare", &v, 1), -LNG_ERRMISUSE);
  lng_destroy(rt);
}

Test(capi, misuse_blocking_on_worker, .timeout = T_TIMEOUT) {
  for (int i = 0; i < 2; i++) {
    ctx c;
    lng_runtime *rt = new_rt(WORKER_COUNTS[i], 0, &c);
    c.held = lng_channel_new(rt, 1);
    lng_channel *out = lng_channel_new(rt, 16);
    cr_assert_eq(set_chan(rt, "out", out), LNG_OK);
    cr_assert_eq(add_code(rt,
                          "out:send(c_recv(-1))\n"      /* blocking: refused */
                          "out:send(c_recv(0.5))\n"     /* timed: refused */
                          "out:send(c_send(1, -1))\n"
                          "out:send(c_send(1, 0.5))\n"
                          "out:send(c_recv(0))\n"       /* non-blocking: allowed */
                          "out:send(c_send(5, 0))\n"
                          "out:send(c_send(6, 0))\n"    /* full */
                          "local st, v = c_recv(0)\n"
                          "out:send(st) out:send(v)\n"
                          "go(function() out:send(c_recv(-1)) end)\n"
                          "out:send(c_spawn('gsquare', 9))\n", "=main"), LNG_OK);
    cr_assert_eq(lng_start(rt), LNG_OK);
    cr_assert_eq(recv_int(out), LNG_ERRMISUSE);
    cr_assert_eq(recv_int(out), LNG_ERRMISUSE);
    cr_assert_eq(recv_int(out), LNG_ERRMISUSE);
    cr_assert_eq(recv_int(out), LNG_ERRMISUSE);
    cr_assert_eq(recv_int(out), LNG_TIMEOUT);
    cr_assert_eq(recv_int(out), LNG_OK);
    cr_assert_eq(recv_int(out), LNG_TIMEOUT);
    cr_assert_eq(recv_int(out), LNG_OK);
    cr_assert_eq(recv_int(out), 5);
    /* in another goroutine too, and lng_spawn from a worker works: in any order */
    long long r1 = recv_int(out), r2 = recv_int(out);
    cr_assert((r1 == LNG_ERRMISUSE && r2 > 0) || (r1 > 0 && r2 == LNG_ERRMISUSE),
              "%lld %lld (a status and the new goroutine's id)", r1, r2);
    cr_assert_eq(recv_int(c.held), 81);
    cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK, "%s", lng_message(rt));
    lng_channel_release(out);
    lng_channel_release(c.held);
    lng_destroy(rt);
  }
}

/* ------------------------------------------------------------------ */
/* lng_interrupt and lng_blocked                                       */

Test(capi, interrupt_running_loop, .timeout = T_TIMEOUT) {
  SKIP_UNDER_TSAN();
  for (int i = 0; i < NCOUNTS; i++) {
    ctx c;
    lng_runtime *rt = new_rt(WORKER_COUNTS[i], 0, &c);
    lng_channel *out = lng_channel_new(rt, 0);
    cr_assert_eq(set_chan(rt, "out", out), LNG_OK);
    cr_assert_eq(add_code(rt,
                          "for round = 1, 2 do\n"
                          "  local ok, e = pcall(function()\n"
                          "    out:send('spinning')\n"
                          "    local n = 0\n"
                          "    while true do n = n + 1 end\n"
                          "  end)\n"
                          "  out:send(tostring(e))\n"
                          "end\n", "=main"), LNG_OK);
    cr_assert_eq(lng_start(rt), LNG_OK);
    for (int round = 0; round < 2; round++) {
      char got[128];
      recv_str(out, got, sizeof got);
      cr_assert_str_eq(got, "spinning");
      sleep_ms(20);
      cr_assert_eq(lng_blocked(rt), 0);
      cr_assert_eq(lng_interrupt(rt), LNG_OK);
      recv_str(out, got, sizeof got);
      cr_assert(contains(got, "interrupted!"), "%s", got);
    }
    cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK, "%s", lng_message(rt));
    lng_channel_release(out);
    lng_destroy(rt);
  }
}

Test(capi, interrupt_blocked, .timeout = T_TIMEOUT) {
  for (int i = 0; i < NCOUNTS; i++) {
    ctx c;
    lng_runtime *rt = new_rt(WORKER_COUNTS[i], 0, &c);
    lng_channel *out = lng_channel_new(rt, 0), *held = lng_channel_new(rt, 0);
    cr_assert_eq(set_chan(rt, "out", out), LNG_OK);
    cr_assert_eq(set_chan(rt, "held", held), LNG_OK);
    cr_assert_eq(add_code(rt,
                          "local ok, e = pcall(held.recv, held)\n"
                          "out:send(tostring(e))\n"
                          "ok, e = pcall(go.sleep, 1000)\n"
                          "out:send(tostring(e))\n"
                          "ok, e = pcall(go.select, held, chan())\n"
                          "out:send(tostring(e))\n"
                          "ok, e = pcall(held.send, held, 1)\n"
                          "out:send(tostring(e))\n"
                          "held:recv()\n"                 /* uncaught this time */
                          "out:send('not reached')\n", "=main"), LNG_OK);
    cr_assert_eq(lng_start(rt), LNG_OK);
    char got[128];
    for (int k = 0; k < 4; k++) {
      if (k != 1) cr_assert(wait_blocked(rt, WAIT_SECS), "step %d", k);
      else sleep_ms(100);                                 /* a sleep's timer: never "blocked" */
      cr_assert_eq(lng_interrupt(rt), LNG_OK);
      recv_str(out, got, sizeof got);
      cr_assert(contains(got, "interrupted!"), "step %d: %s", k, got);
    }
    cr_assert(wait_blocked(rt, WAIT_SECS));
    cr_assert_eq(lng_interrupt(rt), LNG_OK);
    int st = wait_for(rt, WAIT_SECS);
    cr_assert_eq(st, LNG_ERRRUN, "%s", lng_message(rt));
    cr_assert(contains(lng_message(rt), "interrupted!"), "%s", lng_message(rt));
    /* the interrupted operations did not happen */
    lng_value v, x = lng_integer(1);
    cr_assert_eq(lng_recv(held, &v, 0), LNG_TIMEOUT);
    cr_assert_eq(lng_send(held, &x, 0), LNG_TIMEOUT);
    lng_channel_release(out);
    lng_channel_release(held);
    lng_destroy(rt);
  }
}

/* BUG (vm/interrupt.c, lng_interrupt and on_signal): lng_interrupt called
   while the main goroutine is on its way into a blocking operation (in the
   C code of go.select or chan:recv, not yet armed for an abort) finds
   nothing to abort, sets rt->interrupt and signals the worker; the handler
   then sees no running goroutine (main has parked) or sets a hook on a
   thread that parks without running another instruction. Nothing looks at
   rt->interrupt when the goroutine parks: the interrupt is lost and main
   stays blocked. A select over 300 channels makes that way long enough to
   lose the interrupt within a few rounds; with a plain recv it takes some
   thousands.
   BUG (vm/gor.c lng_gor_park, runtime/sched.c lng_sched_abort), after the
   first fix (main checks the flag once armed): main took the flag with
   atomic_exchange and aborted its own wait, while lng_interrupt, slowed
   down between setting the flag and its lng_sched_abort, then aborted the
   next wait too (main runs ahead: `ready` and `out` are buffered). One
   interrupt answered twice; the second interrupt after that found main
   resuming from an abort with the flag set, and the hook raised at the
   return of pcall: main died with "main:6: interrupted!" and `out` stayed
   empty. Seen under TSan with another test beside it, about one run in
   ten. Now the flag is taken only together with the wait (both sides go
   through lng_sched_abort), and each answer names its round. */
#ifdef LNG_TSAN
#define SELECT_CASES "40"     /* TSan's deadlock detector tracks at most 64 held locks */
#else
#define SELECT_CASES "300"
#endif

Test(capi, interrupt_while_entering_select, .timeout = T_TIMEOUT) {
  ctx c;
  lng_runtime *rt = new_rt(1, 0, &c);
  lng_channel *ready = lng_channel_new(rt, 1), *held = lng_channel_new(rt, 0);
  lng_channel *out = lng_channel_new(rt, 1);
  cr_assert_eq(set_chan(rt, "ready", ready), LNG_OK);
  cr_assert_eq(set_chan(rt, "held", held), LNG_OK);
  cr_assert_eq(set_chan(rt, "out", out), LNG_OK);
  cr_assert_eq(add_code(rt,
                        "local cases = {held}\n"       /* a long way into the park */
                        "for k = 2, " SELECT_CASES " do cases[k] = chan() end\n"
                        "local i = 0\n"
                        "while true do\n"
                        "  i = i + 1\n"
                        "  local ok, e = pcall(function() ready:send(i) go.select(table.unpack(cases)) end)\n"
                        "  out:send(i .. ': ' .. tostring(e))\n"
                        "end\n", "=main"), LNG_OK);
  cr_assert_eq(lng_start(rt), LNG_OK);
  int lost = 0, round, st = LNG_OK;
  char why[512] = "";
  double stop_at = now_sec() + 5.0;                       /* some 50 000 rounds */
  for (round = 1; now_sec() < stop_at && !lost; round++) {
    lng_value r;
    double end = now_sec() + WAIT_SECS;
    while ((st = lng_recv(ready, &r, 0)) == LNG_TIMEOUT && now_sec() < end) {}
    cr_assert_eq(st, LNG_OK, "round %d: no ready (%d)", round, st);
    cr_assert_eq(r.type, LNG_TINTEGER);
    cr_assert_eq(r.integer, round, "main is at round %lld, not %d: an interrupt answered twice",
                 (long long)r.integer, round);
    /* sweep the moment of the interrupt across main's way into recv */
    for (volatile int spin = 0; spin < (round * 37) % 4000; spin++) {}
    cr_assert_eq(lng_interrupt(rt), LNG_OK);
    st = lng_recv(out, &r, 10.0);                  /* generous: sanitizer builds under load */
    if (st == LNG_TIMEOUT) { lost = round; break; }
    cr_assert_eq(st, LNG_OK, "%s", lng_message(rt));
    char want[64];
    snprintf(want, sizeof want, "%d: ", round);
    int ok = strncmp(r.string, want, strlen(want)) == 0 && contains(r.string, "interrupted!");
    if (!ok) snprintf(why, sizeof why, "%s", r.string);
    lng_value_free(&r);
    cr_assert(ok, "round %d answered %s", round, why);
  }
  int blocked = lng_blocked(rt);
  if (lost) {
    /* main may have died: its message tells how (after lng_wait, which orders it) */
    st = wait_for(rt, 1.0);
    snprintf(why, sizeof why, "%s", st == LNG_OK || st == LNG_TIMEOUT ? "" : lng_message(rt));
  }
  lng_close(held);
  lng_channel_release(ready);
  lng_channel_release(held);
  lng_channel_release(out);
  lng_stop(rt);
  wait_for(rt, WAIT_SECS);
  lng_destroy(rt);
  cr_assert_eq(lost, 0, "round %d: the interrupt was lost (lng_blocked %d, status %d: %s)",
               lost, blocked, st, why);
}

Test(capi, blocked_states, .timeout = T_TIMEOUT) {
  ctx c;
  lng_runtime *rt = new_rt(2, 0, &c);
  lng_channel *held = lng_channel_new(rt, 0);
  cr_assert_eq(set_chan(rt, "held", held), LNG_OK);
  cr_assert_eq(add_code(rt,
                        "held:recv()\n"
                        "go.sleep(0.3)\n"
                        "held:recv()\n"
                        "local t0 = os.clock() while os.clock() - t0 < 0.3 do end\n"
                        "held:recv()\n", "=main"), LNG_OK);
  cr_assert_eq(lng_blocked(rt), 0);                       /* not started */
  cr_assert_eq(lng_start(rt), LNG_OK);
  lng_value x = lng_integer(1);
  cr_assert(wait_blocked(rt, WAIT_SECS));                 /* waiting on held */
  cr_assert_eq(lng_send(held, &x, WAIT_SECS), LNG_OK);
  sleep_ms(50);
  cr_assert_eq(lng_blocked(rt), 0);                       /* sleeping: a timer is pending */
  cr_assert_eq(lng_send(held, &x, WAIT_SECS), LNG_OK);
  sleep_ms(50);
  cr_assert_eq(lng_blocked(rt), 0);                       /* computing */
  cr_assert(wait_blocked(rt, WAIT_SECS));
  cr_assert_eq(lng_send(held, &x, WAIT_SECS), LNG_OK);
  cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK, "%s", lng_message(rt));
  lng_channel_release(held);
  lng_destroy(rt);
}

/* BUG (runtime/sched.c, finish()): when the last live goroutine ends,
   `live` drops to 0 but `active` is not decremented, so in service mode
   lng_blocked() stays 0 for ever although nothing runs, and a goroutine
   spawned later that blocks for good is never reported as a deadlock
   (it is when it was the main chunk). */
Test(capi, blocked_in_service_mode, .timeout = T_TIMEOUT) {
  ctx c;
  lng_runtime *rt = new_rt(1, 1, &c);
  lng_channel *ch = lng_channel_new(rt, 0);
  cr_assert_eq(add_code(rt, "local x = 1", "=main"), LNG_OK);
  cr_assert_eq(lng_start(rt), LNG_OK);
  sleep_ms(100);                                          /* main ended: nothing runs */
  cr_assert(wait_blocked(rt, 2.0), "lng_blocked() is 0 with no goroutine at all");
  static const char code[] = "local ch = ...\nch:recv()\n";
  lng_value arg = lng_chanvalue(ch);
  cr_assert_gt(lng_spawn_string(rt, code, sizeof code - 1, "=g", &arg, 1), 0);
  cr_assert(wait_blocked(rt, 2.0), "lng_blocked() is 0 with the only goroutine parked on a C channel");
  lng_close(ch);
  lng_channel_release(ch);
  cr_assert_eq(lng_stop(rt), LNG_OK);
  cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK);
  lng_destroy(rt);
}

/* ------------------------------------------------------------------ */
/* lng_status_string                                                   */

Test(capi, status_strings, .timeout = T_TIMEOUT) {
  static const int codes[] = { LNG_OK, LNG_ERRRUN, LNG_ERRSYNTAX, LNG_ERRFILE, LNG_ERRMEM,
                               LNG_DEADLOCK, LNG_EXIT, LNG_ERRMISUSE, LNG_CLOSED, LNG_TIMEOUT,
                               LNG_ERRTYPE };
  const int n = (int)(sizeof codes / sizeof codes[0]);
  for (int i = 0; i < n; i++) {
    cr_assert_eq(codes[i], i, "status codes are 0..10 in order");
    const char *s = lng_status_string(codes[i]);
    cr_assert_not_null(s);
    cr_assert_gt(strlen(s), 1);
    cr_assert(strcmp(s, "unknown status") != 0);
    for (int j = 0; j < i; j++) cr_assert(strcmp(s, lng_status_string(codes[j])) != 0, "%d and %d", i, j);
  }
  cr_assert_str_eq(lng_status_string(LNG_OK), "ok");
  cr_assert(contains(lng_status_string(LNG_DEADLOCK), "deadlock"));
  cr_assert(contains(lng_status_string(LNG_ERRMEM), "memory"));
  cr_assert(contains(lng_status_string(LNG_TIMEOUT), "time"));
  cr_assert(contains(lng_status_string(LNG_CLOSED), "closed"));
  cr_assert(contains(lng_status_string(LNG_ERRSYNTAX), "syntax"));
  cr_assert_str_eq(lng_status_string(-1), "unknown status");
  cr_assert_str_eq(lng_status_string(11), "unknown status");
  cr_assert_str_eq(lng_status_string(1000), "unknown status");
}

/* ------------------------------------------------------------------ */
/* samples/embed                                                       */

/* The embed sample next to $LUNGO_BIN (set by `make test`), else build/. */
static void embed_path(char *buf, size_t n) {
  const char *bin = getenv("LUNGO_BIN");
  const char *slash = bin ? strrchr(bin, '/') : NULL;
  if (slash) snprintf(buf, n, "%.*s/embed-sample", (int)(slash - bin), bin);
  else snprintf(buf, n, "build/embed-sample");
}

Test(capi, embed_sample, .timeout = T_TIMEOUT) {
  char path[1024];
  embed_path(path, sizeof path);
  cr_assert_eq(access(path, X_OK), 0, "%s is missing: run make", path);
  for (int i = 0; i < NCOUNTS; i++) {
    char workers[8];
    snprintf(workers, sizeof workers, "%d", WORKER_COUNTS[i]);
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
      test_child_dies_with_parent();
      dup2(fds[1], 1);
      close(fds[0]);
      close(fds[1]);
      execl(path, path, workers, "5000", (char *)NULL);
      _exit(127);
    }
    close(fds[1]);
    char out[1024];
    size_t len = 0;
    ssize_t r;
    while (len < sizeof out - 1 && (r = read(fds[0], out + len, sizeof out - 1 - len)) != 0) {
      if (r < 0) {
        if (errno == EINTR) continue;
        break;
      }
      len += (size_t)r;
    }
    out[len] = 0;
    close(fds[0]);
    int status;
    double end = now_sec() + 45;
    pid_t w;
    while ((w = waitpid(pid, &status, WNOHANG)) == 0 && now_sec() < end) sleep_ms(10);
    if (w == 0) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      cr_assert(0, "embed-sample with %s workers did not finish", workers);
    }
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "embed-sample %s: status 0x%x, output: %s", workers, status, out);
    cr_assert(contains(out, ": OK\n"), "%s", out);
    cr_assert(contains(out, "5000 requests from a C server loop to 2 runtimes"), "%s", out);
  }
}
