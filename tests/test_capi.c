/*
 * The public C API (include/lungo.h), in-process: lifecycle and the main
 * goroutine's steps, the on_shard hook, memory limits, service mode and
 * spawning from C. Channels held by C are in test_capi_chan.c; shutdown,
 * two runtimes, misuse, lng_interrupt, lng_blocked, lng_status_string and
 * the samples/embed program in test_capi_stop.c.
 *
 * Only the Criterion macros that tests/shim/criterion/criterion.h also
 * provides are used (the TSan build runs these tests under the shim).
 * Assertions are made on the test's thread only: helper threads record
 * what they saw and the test checks it after joining them.
 */
#include "capi_util.h"

/* ------------------------------------------------------------------ */
/* lifecycle                                                           */

Test(capi, config_defaults, .timeout = T_TIMEOUT) {
  lng_config cfg;
  memset(&cfg, 0x5a, sizeof cfg);
  lng_config_init(&cfg);
  cr_assert_eq(cfg.workers, 0);
  cr_assert_eq(cfg.mem_limit, 0);
  cr_assert_null((void *)cfg.on_shard);
  cr_assert_null(cfg.ud);
  cr_assert_eq(cfg.service, 0);
  cr_assert_geq(lng_cpu_count(), 1);
  cr_assert_str_eq(LUNGO_VERSION, "lungo 0.1");
}

Test(capi, worker_counts, .timeout = T_TIMEOUT) {
  char code[128];
  for (int i = 0; i < NCOUNTS; i++) {
    int n = WORKER_COUNTS[i];
    snprintf(code, sizeof code, "assert(go.workers() == %d, go.workers())", n);
    int st = run_code(n, code, NULL);
    cr_assert_eq(st, LNG_OK, "%d workers: %s", n, msgbuf);
  }
  /* 0: one per CPU */
  snprintf(code, sizeof code, "assert(go.workers() == %d, go.workers())", lng_cpu_count());
  cr_assert_eq(run_code(0, code, NULL), LNG_OK, "%s", msgbuf);
  /* lng_new(NULL): the defaults */
  lng_runtime *rt = lng_new(NULL);
  cr_assert_not_null(rt);
  cr_assert_eq(add_code(rt, code, "=main"), LNG_OK);
  cr_assert_eq(lng_start(rt), LNG_OK);
  cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK, "%s", lng_message(rt));
  lng_destroy(rt);
  /* a bad config */
  lng_config cfg;
  lng_config_init(&cfg);
  cfg.workers = -1;
  cr_assert_null(lng_new(&cfg));
}

Test(capi, new_destroy_without_start, .timeout = T_TIMEOUT) {
  for (int i = 0; i < NCOUNTS; i++) {
    ctx c;
    lng_runtime *rt = new_rt(WORKER_COUNTS[i], i == 1, &c);
    cr_assert_eq(add_code(rt, "print('never')", "=main"), LNG_OK);
    cr_assert_eq(lng_main_file(rt, "/nonexistent/never.lua"), LNG_OK);
    cr_assert_eq(lng_main_require(rt, "cmod", NULL), LNG_OK);
    lng_channel *ch = lng_channel_new(rt, 2);
    cr_assert_not_null(ch);
    cr_assert_eq(set_chan(rt, "ch", ch), LNG_OK);
    lng_value v = lng_string("kept", 4);
    cr_assert_eq(lng_send(ch, &v, 0), LNG_OK);       /* a buffered value, never received */
    /* before the start: nothing runs, nothing ends */
    cr_assert_eq(lng_wait(rt), LNG_ERRMISUSE);
    cr_assert_eq(lng_stop(rt), LNG_ERRMISUSE);
    cr_assert_eq(lng_interrupt(rt), LNG_ERRMISUSE);
    cr_assert_eq(lng_blocked(rt), 0);
    cr_assert_eq(lng_status(rt), LNG_OK);
    cr_assert_eq(lng_exit_code(rt), 0);
    cr_assert_str_eq(lng_message(rt), "");
    lng_channel_release(ch);
    lng_destroy(rt);
    cr_assert_eq(atomic_load(&c.calls), WORKER_COUNTS[i]);
  }
  lng_destroy(NULL);
}

static const char MODFILE_CODE[] =
  "trace[#trace + 1] = 'file:' .. table.concat({...}, ',')\n"
  "assert(arg[0] == SCRIPT and arg[1] == 'a' and arg[2] == 'b' and arg[-1] == 'prog')\n";

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  cr_assert_not_null(f);
  fputs(text, f);
  fclose(f);
}

Test(capi, main_steps_in_order, .timeout = T_TIMEOUT) {
  char path[64], code[256];
  snprintf(path, sizeof path, "/tmp/lungo-capi-%d.lua", (int)getpid());
  write_file(path, MODFILE_CODE);
  ctx c;
  lng_runtime *rt = new_rt(2, 0, &c);
  lng_channel *out = lng_channel_new(rt, 4);
  cr_assert_eq(set_chan(rt, "out", out), LNG_OK);
  char prog[] = "prog", a[] = "a", b[] = "b";
  char *argv[] = { prog, path, a, b, NULL };
  cr_assert_eq(lng_main_args(rt, 4, argv, 1), LNG_OK);
  snprintf(code, sizeof code, "trace = {'s1'}; SCRIPT = '%s'", path);
  cr_assert_eq(add_code(rt, code, "=s1"), LNG_OK);
  cr_assert_eq(lng_main_require(rt, "cmod", "mm"), LNG_OK);
  cr_assert_eq(lng_main_require(rt, "cmod", NULL), LNG_OK);
  cr_assert_eq(add_code(rt, "trace[#trace + 1] = mm.name .. '/' .. cmod.name", "=s2"), LNG_OK);
  cr_assert_eq(lng_main_file(rt, path), LNG_OK);
  cr_assert_eq(add_code(rt, "out:send(table.concat(trace, ' '))", "=s3"), LNG_OK);
  cr_assert_eq(lng_start(rt), LNG_OK);
  char got[256];
  recv_str(out, got, sizeof got);
  cr_assert_str_eq(got, "s1 cmod/cmod file:a,b");
  cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK, "%s", lng_message(rt));
  cr_assert_str_eq(lng_message(rt), "");
  cr_assert_eq(lng_exit_code(rt), 0);
  lng_channel_release(out);
  lng_destroy(rt);
  unlink(path);
}

Test(capi, main_args_without_script, .timeout = T_TIMEOUT) {
  ctx c;
  lng_runtime *rt = new_rt(1, 0, &c);
  char p[] = "prog", e[] = "-e";
  char *argv[] = { p, e, NULL };
  cr_assert_eq(lng_main_args(rt, 2, argv, 2), LNG_OK);   /* script == argc: no script */
  cr_assert_eq(add_code(rt, "assert(arg[0] == 'prog' and arg[1] == '-e' and arg[-1] == nil)"
                            "assert(select('#', ...) == 0)", "=main"), LNG_OK);
  cr_assert_eq(lng_start(rt), LNG_OK);
  cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK, "%s", lng_message(rt));
  lng_destroy(rt);
}

Test(capi, main_file_stdin, .timeout = T_TIMEOUT) {
  char path[64];
  snprintf(path, sizeof path, "/tmp/lungo-capi-stdin-%d.lua", (int)getpid());
  write_file(path, "out:send('from stdin ' .. go.id())\n");
  int fd = open(path, O_RDONLY);
  cr_assert_geq(fd, 0);
  cr_assert_geq(dup2(fd, 0), 0);
  close(fd);
  ctx c;
  lng_runtime *rt = new_rt(2, 0, &c);
  lng_channel *out = lng_channel_new(rt, 1);
  cr_assert_eq(set_chan(rt, "out", out), LNG_OK);
  cr_assert_eq(lng_main_file(rt, NULL), LNG_OK);
  cr_assert_eq(lng_start(rt), LNG_OK);
  char got[64];
  recv_str(out, got, sizeof got);
  cr_assert_str_eq(got, "from stdin 1");
  cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK, "%s", lng_message(rt));
  lng_channel_release(out);
  lng_destroy(rt);
  unlink(path);
}

Test(capi, error_syntax, .timeout = T_TIMEOUT) {
  ctx c;
  lng_runtime *rt = new_rt(2, 0, &c);
  lng_channel *out = lng_channel_new(rt, 4);
  cr_assert_eq(set_chan(rt, "out", out), LNG_OK);
  cr_assert_eq(add_code(rt, "out:send('step 1 ran')", "=first"), LNG_OK);
  cr_assert_eq(add_code(rt, "x = = 1", "=bad"), LNG_OK);
  cr_assert_eq(add_code(rt, "out:send('step 3 ran') os.exit(7)", "=third"), LNG_OK);
  cr_assert_eq(lng_start(rt), LNG_OK);
  int st = wait_for(rt, WAIT_SECS);
  cr_assert_eq(st, LNG_ERRSYNTAX, "%s: %s", lng_status_string(st), lng_message(rt));
  cr_assert(contains(lng_message(rt), "bad:1:"), "%s", lng_message(rt));
  cr_assert(contains(lng_message(rt), "near '='"), "%s", lng_message(rt));
  cr_assert_eq(lng_exit_code(rt), 1);
  char got[64];
  recv_str(out, got, sizeof got);
  cr_assert_str_eq(got, "step 1 ran");
  lng_value v;
  cr_assert_eq(lng_recv(out, &v, 0), LNG_TIMEOUT, "a step after the failing one ran");
  lng_channel_release(out);
  lng_destroy(rt);
}

Test(capi, error_file, .timeout = T_TIMEOUT) {
  ctx c;
  lng_runtime *rt = new_rt(1, 0, &c);
  cr_assert_eq(lng_main_file(rt, "/nonexistent/dir/missing.lua"), LNG_OK);
  cr_assert_eq(lng_start(rt), LNG_OK);
  int st = wait_for(rt, WAIT_SECS);
  cr_assert_eq(st, LNG_ERRFILE, "%s: %s", lng_status_string(st), lng_message(rt));
  cr_assert(contains(lng_message(rt), "missing.lua"), "%s", lng_message(rt));
  cr_assert_eq(lng_exit_code(rt), 1);
  lng_destroy(rt);
}

Test(capi, error_runtime, .timeout = T_TIMEOUT) {
  int code;
  int st = run_code(2, "local function f(x)\n  error('boom ' .. x)\nend\nf(42)\n", &code);
  cr_assert_eq(st, LNG_ERRRUN, "%s", msgbuf);
  cr_assert(contains(msgbuf, "main:2: boom 42"), "%s", msgbuf);
  cr_assert(contains(msgbuf, "stack traceback:"), "%s", msgbuf);
  cr_assert(contains(msgbuf, "main:4:"), "%s", msgbuf);
  cr_assert_eq(code, 1);
  /* error values that are not strings */
  st = run_code(1, "error({})", NULL);
  cr_assert_eq(st, LNG_ERRRUN);
  cr_assert(contains(msgbuf, "error object is a table value"), "%s", msgbuf);
  st = run_code(1, "error(setmetatable({}, {__tostring = function() return 'custom' end}))", NULL);
  cr_assert_eq(st, LNG_ERRRUN);
  cr_assert(contains(msgbuf, "custom"), "%s", msgbuf);
  /* in a goroutine started by Lua: the goroutine's id comes first */
  st = run_code(2, "local c = chan()\ngo(function() error('in goroutine') end)\nc:recv()\n", NULL);
  cr_assert_eq(st, LNG_ERRRUN, "%s", msgbuf);
  cr_assert(contains(msgbuf, "goroutine 2: main:2: in goroutine"), "%s", msgbuf);
}

Test(capi, os_exit, .timeout = T_TIMEOUT) {
  int code;
  cr_assert_eq(run_code(2, "os.exit(3)", &code), LNG_EXIT);
  cr_assert_eq(code, 3);
  cr_assert_eq(run_code(1, "os.exit(true)", &code), LNG_EXIT);
  cr_assert_eq(code, 0);
  cr_assert_eq(run_code(1, "os.exit(false)", &code), LNG_EXIT);
  cr_assert_eq(code, 1);
  cr_assert_eq(run_code(1, "os.exit()", &code), LNG_EXIT);
  cr_assert_eq(code, 0);
  /* from a goroutine while main waits */
  for (int i = 0; i < NCOUNTS; i++) {
    int st = run_code(WORKER_COUNTS[i],
                      "local c = chan()\ngo(function() go.sleep(0.01) os.exit(5) end)\nc:recv()\n", &code);
    cr_assert_eq(st, LNG_EXIT, "%s", msgbuf);
    cr_assert_eq(code, 5);
  }
  /* a normal end */
  cr_assert_eq(run_code(2, "local x = 1", &code), LNG_OK);
  cr_assert_eq(code, 0);
  cr_assert_str_eq(msgbuf, "");
}

Test(capi, deadlock_report, .timeout = T_TIMEOUT) {
  for (int i = 0; i < NCOUNTS; i++) {
    int code;
    int st = run_code(WORKER_COUNTS[i],
                      "local a, b = chan(), chan()\n"
                      "go(function() b:send(1) end)\n"
                      "a:recv()\n", &code);
    cr_assert_eq(st, LNG_DEADLOCK, "%s", msgbuf);
    cr_assert_eq(strncmp(msgbuf, "fatal error: all goroutines are asleep - deadlock!", 50), 0,
                 "%s", msgbuf);
    cr_assert(contains(msgbuf, "goroutine 1 [chan receive]:\n\tmain:3"), "%s", msgbuf);
    cr_assert(contains(msgbuf, "goroutine 2 [chan send]:\n\tmain:2"), "%s", msgbuf);
    cr_assert_eq(code, 1);
  }
}

/* ------------------------------------------------------------------ */
/* the on_shard hook                                                   */

Test(capi, on_shard_once_per_worker, .timeout = T_TIMEOUT) {
  for (int i = 0; i < NCOUNTS; i++) {
    int n = WORKER_COUNTS[i];
    ctx c;
    lng_runtime *rt = new_rt(n, 0, &c);
    cr_assert_eq(atomic_load(&c.calls), n);
    for (int w = 0; w < n; w++) cr_assert_eq(atomic_load(&c.seen[w]), 1, "worker %d", w);
    cr_assert_eq(atomic_load(&c.wrong_thread), 0);
    cr_assert_eq(atomic_load(&c.bad_ud), 0);
    /* each shard got its own registration: c_worker() is the shard's
       number, which go.worker() gives too */
    cr_assert_eq(add_code(rt,
                          "local done = chan()\n"
                          "for i = 1, 64 do\n"
                          "  go(function()\n"
                          "    for k = 1, 10 do\n"
                          "      assert(c_worker() == go.worker())\n"
                          "      assert(c_square(k) == k * k)\n"
                          "      go.yield()\n"
                          "    end\n"
                          "    done:send(true)\n"
                          "  end)\n"
                          "end\n"
                          "for i = 1, 64 do done:recv() end\n", "=main"), LNG_OK);
    cr_assert_eq(lng_start(rt), LNG_OK);
    cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK, "%s", lng_message(rt));
    lng_destroy(rt);
    cr_assert_eq(atomic_load(&c.calls), n, "the hook ran again after lng_new");
  }
}

/* package.loaded._G from C, in the main goroutine and in goroutines
   whose function (a C function) gives them no globals table up front */
Test(capi, loaded_g_is_the_goroutines_globals, .timeout = T_TIMEOUT) {
  for (int i = 0; i < NCOUNTS; i++) {
    ctx c;
    lng_runtime *rt = new_rt(WORKER_COUNTS[i], 0, &c);
    atomic_store(&loaded_g_checks, 0);
    cr_assert_eq(add_code(rt,
                          "c_loaded_g()\n"
                          "for i = 1, 32 do go(c_loaded_g) end\n", "=main"), LNG_OK);
    cr_assert_eq(lng_start(rt), LNG_OK);
    cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK, "%s", lng_message(rt));
    lng_destroy(rt);
    cr_assert_eq(atomic_load(&loaded_g_checks), 33);
  }
}

/* ------------------------------------------------------------------ */
/* memory limit                                                        */

static const char HOG[] =
  "local t = {}\n"
  "for i = 1, 1e9 do t[i] = string.rep('x', 1000) .. i end\n";

Test(capi, mem_limit_uncaught, .timeout = T_TIMEOUT) {
  for (int i = 0; i < NCOUNTS; i++) {
    lng_config cfg;
    lng_config_init(&cfg);
    cfg.workers = WORKER_COUNTS[i];
    cfg.mem_limit = 4u << 20;
    lng_runtime *rt = lng_new(&cfg);
    cr_assert_not_null(rt);
    cr_assert_eq(add_code(rt, HOG, "=hog"), LNG_OK);
    cr_assert_eq(lng_start(rt), LNG_OK);
    int st = wait_for(rt, WAIT_SECS);
    cr_assert(st == LNG_ERRMEM || (st == LNG_ERRRUN && contains(lng_message(rt), "not enough memory")),
              "status %d: %s", st, lng_message(rt));
    lng_destroy(rt);
  }
}

Test(capi, mem_limit_caught_runtime_usable, .timeout = T_TIMEOUT) {
  for (int i = 0; i < NCOUNTS; i++) {
    lng_config cfg;
    lng_config_init(&cfg);
    cfg.workers = WORKER_COUNTS[i];
    cfg.mem_limit = 4u << 20;
    lng_runtime *rt = lng_new(&cfg);
    cr_assert_not_null(rt);
    lng_channel *out = lng_channel_new(rt, 4);
    cr_assert_eq(set_chan(rt, "out", out), LNG_OK);
    cr_assert_eq(add_code(rt,
                          "local ok, err = pcall(function()\n"
                          "  local t = {}\n"
                          "  for i = 1, 1e9 do t[i] = string.rep('x', 1000) .. i end\n"
                          "end)\n"
                          "assert(not ok)\n"
                          "out:send(tostring(err))\n"
                          "collectgarbage()\n"
                          "local res = chan()\n"
                          "for k = 1, 20 do go(function(n) res:send(n * n) end, k) end\n"
                          "local sum = 0\n"
                          "for k = 1, 20 do sum = sum + res:recv() end\n"
                          "out:send(sum)\n", "=mem"), LNG_OK);
    cr_assert_eq(lng_start(rt), LNG_OK);
    char err[256];
    recv_str(out, err, sizeof err);
    cr_assert(contains(err, "not enough memory"), "%s", err);
    cr_assert_eq(recv_int(out), 2870);
    cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK, "%s", lng_message(rt));
    lng_channel_release(out);
    lng_destroy(rt);
  }
}

/* BUG (vm/shard.c:176, lng_shard_open): luaL_openlibs runs unprotected, so
   a memory limit too small for a shard makes Lua panic and shard_panic
   (vm/shard.c:162) abort() the whole process, instead of lng_new
   returning NULL as lungo.h promises. */
Test(capi, mem_limit_too_small_for_a_shard, .timeout = T_TIMEOUT) {
  lng_config cfg;
  lng_config_init(&cfg);
  cfg.workers = 1;
  cfg.mem_limit = 16 * 1024;                              /* a shard needs about 28 KB */
  lng_runtime *rt = lng_new(&cfg);
  cr_assert_null(rt, "lng_new with a limit too small for a shard");
}

/* BUG (vm/gor.c:279-284, goroutine_failed): the error message and its
   traceback are built on the shard's main thread outside any protected
   call; when an out-of-memory error leaves no headroom (many small
   allocations), luaL_traceback's own allocation fails, Lua panics and
   shard_panic aborts the process. */
Test(capi, mem_limit_error_without_headroom, .timeout = T_TIMEOUT) {
  lng_config cfg;
  lng_config_init(&cfg);
  cfg.workers = 1;
  cfg.mem_limit = 1u << 20;
  lng_runtime *rt = lng_new(&cfg);
  cr_assert_not_null(rt);
  cr_assert_eq(add_code(rt, "local l\nwhile true do l = {l} end\n", "=hog"), LNG_OK);
  cr_assert_eq(lng_start(rt), LNG_OK);
  int st = wait_for(rt, WAIT_SECS);
  cr_assert(st == LNG_ERRMEM || (st == LNG_ERRRUN && contains(lng_message(rt), "not enough memory")),
            "status %d: %s", st, lng_message(rt));
  lng_destroy(rt);
}

/* ------------------------------------------------------------------ */
/* service mode and spawning from C                                    */

Test(capi, service_spawn_and_stop, .timeout = T_TIMEOUT) {
  for (int i = 0; i < NCOUNTS; i++) {
    ctx c;
    lng_runtime *rt = new_rt(WORKER_COUNTS[i], 1, &c);
    lng_channel *ch = lng_channel_new(rt, 0);
    cr_assert_eq(lng_start(rt), LNG_OK);
    waiter w;
    waiter_start(&w, rt);
    /* no goroutine is left, yet the program goes on */
    sleep_ms(100);
    cr_assert_eq(waiter_done(&w), 0, "lng_wait returned in service mode");
    cr_assert_eq(lng_status(rt), LNG_OK);

    lng_value args[2] = { lng_chanvalue(ch), lng_integer(7) };
    cr_assert_gt(lng_spawn(rt, "gsquare", args, 2), 0);
    cr_assert_eq(recv_int(ch), 49);
    args[1] = lng_integer(5);
    cr_assert_gt(lng_spawn(rt, "cmod.triple", args, 2), 0);
    cr_assert_eq(recv_int(ch), 15);
    static const char code[] = "local ch, a, b = ...\nch:send(a + b + go.id() * 0)\n";
    lng_value sargs[3] = { lng_chanvalue(ch), lng_integer(2), lng_integer(3) };
    cr_assert_gt(lng_spawn_string(rt, code, sizeof code - 1, "=spawned", sargs, 3), 0);
    cr_assert_eq(recv_int(ch), 5);
    /* no arguments, no chunk name */
    static const char code2[] = "assert(select('#', ...) == 0)";
    cr_assert_gt(lng_spawn_string(rt, code2, sizeof code2 - 1, NULL, NULL, 0), 0);
    /* many at once */
    for (int k = 1; k <= 100; k++) {
      args[1] = lng_integer(k);
      cr_assert_gt(lng_spawn(rt, k % 2 ? "gsquare" : "cmod.triple", args, 2), 0);
    }
    long long sum = 0;
    for (int k = 1; k <= 100; k++) sum += recv_int(ch);
    long long expect = 0;
    for (int k = 1; k <= 100; k++) expect += k % 2 ? k * k : 3 * k;
    cr_assert_eq(sum, expect);

    sleep_ms(20);
    cr_assert_eq(waiter_done(&w), 0);
    cr_assert_eq(lng_stop(rt), LNG_OK);
    cr_assert_eq(waiter_finish(&w, WAIT_SECS), LNG_OK);
    cr_assert_eq(lng_status(rt), LNG_OK);
    cr_assert_str_eq(lng_message(rt), "");
    cr_assert_eq(lng_stop(rt), LNG_OK);                     /* again: no effect */
    cr_assert_eq(lng_spawn(rt, "gsquare", args, 2), -LNG_ERRMISUSE);
    cr_assert_eq(lng_spawn_string(rt, code, sizeof code - 1, NULL, sargs, 3), -LNG_ERRMISUSE);
    lng_channel_release(ch);
    lng_destroy(rt);
  }
}

Test(capi, service_with_main_chunk, .timeout = T_TIMEOUT) {
  ctx c;
  lng_runtime *rt = new_rt(2, 1, &c);
  lng_channel *ch = lng_channel_new(rt, 1);
  cr_assert_eq(set_chan(rt, "ch", ch), LNG_OK);
  cr_assert_eq(add_code(rt, "ch:send('main done')", "=main"), LNG_OK);
  cr_assert_eq(lng_start(rt), LNG_OK);
  char got[64];
  recv_str(ch, got, sizeof got);
  cr_assert_str_eq(got, "main done");
  sleep_ms(50);
  cr_assert_eq(lng_status(rt), LNG_OK);
  /* the global set before the start is seen by goroutines spawned now */
  static const char code[] = "ch:send(c_square(9))";
  cr_assert_gt(lng_spawn_string(rt, code, sizeof code - 1, "=late", NULL, 0), 0);
  cr_assert_eq(recv_int(ch), 81);
  cr_assert_eq(lng_stop(rt), LNG_OK);
  cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK);
  lng_channel_release(ch);
  lng_destroy(rt);
}

Test(capi, spawn_into_running_program, .timeout = T_TIMEOUT) {
  /* not a service: the program ends when main and the spawned ones end */
  ctx c;
  lng_runtime *rt = new_rt(2, 0, &c);
  lng_channel *ch = lng_channel_new(rt, 0), *g = lng_channel_new(rt, 0);
  cr_assert_eq(set_chan(rt, "ch", ch), LNG_OK);
  cr_assert_eq(set_chan(rt, "g", g), LNG_OK);
  cr_assert_eq(add_code(rt, "local n = g:recv()\nch:send(n + 1)\n", "=main"), LNG_OK);
  cr_assert_eq(lng_start(rt), LNG_OK);
  lng_value args[2] = { lng_chanvalue(g), lng_integer(4) };
  cr_assert_gt(lng_spawn(rt, "gsquare", args, 2), 0);   /* sends 16 to main */
  cr_assert_eq(recv_int(ch), 17);
  cr_assert_eq(wait_for(rt, WAIT_SECS), LNG_OK, "%s", lng_message(rt));
  lng_channel_release(ch);
  lng_channel_release(g);
  lng_destroy(rt);
}

/* Spawns in a fresh service runtime and returns the status it ends with. */
static int spawn_fails(const char *function, const char *code) {
  ctx c;
  lng_runtime *rt = new_rt(2, 1, &c);
  cr_assert_eq(lng_start(rt), LNG_OK);
  lng_value arg = lng_integer(1);
  if (function) cr_assert_gt(lng_spawn(rt, function, &arg, 1), 0);
  else cr_assert_gt(lng_spawn_string(rt, code, strlen(code), "=sp", &arg, 1), 0);
  int st = wait_for(rt, WAIT_SECS);
  snprintf(msgbuf, sizeof msgbuf, "%s", lng_message(rt));
  lng_destroy(rt);
  return st;
}

Test(capi, spawn_errors, .timeout = T_TIMEOUT) {
  cr_assert_eq(spawn_fails("nosuch", NULL), LNG_ERRRUN, "%s", msgbuf);
  cr_assert(contains(msgbuf, "'nosuch' is not a function"), "%s", msgbuf);
  cr_assert_eq(spawn_fails("nomod.f", NULL), LNG_ERRRUN, "%s", msgbuf);
  cr_assert(contains(msgbuf, "module 'nomod' not found"), "%s", msgbuf);
  cr_assert_eq(spawn_fails("cmod.nosuch", NULL), LNG_ERRRUN, "%s", msgbuf);
  cr_assert(contains(msgbuf, "'cmod.nosuch' is not a function"), "%s", msgbuf);
  cr_assert_eq(spawn_fails("cmod.fail", NULL), LNG_ERRRUN, "%s", msgbuf);
  cr_assert(contains(msgbuf, "cmod failure"), "%s", msgbuf);
  cr_assert(contains(msgbuf, "stack traceback:"), "%s", msgbuf);
  cr_assert_eq(spawn_fails(NULL, "local x = = 1"), LNG_ERRRUN, "%s", msgbuf);
  cr_assert(contains(msgbuf, "sp:1:"), "%s", msgbuf);
  cr_assert_eq(spawn_fails(NULL, "local n = ...\nerror('spawned ' .. n)"), LNG_ERRRUN, "%s", msgbuf);
  cr_assert(contains(msgbuf, "goroutine 2: sp:2: spawned 1"), "%s", msgbuf);
  cr_assert(contains(msgbuf, "stack traceback:"), "%s", msgbuf);
  cr_assert_eq(spawn_fails(NULL, "os.exit(9)"), LNG_EXIT, "%s", msgbuf);
}
