/*
 * Network cases that need a process of their own: the lungo binary
 * ($LUNGO_BIN, as tests/test_samples.c runs it) under `ulimit -n 64`,
 * where accept and dial run out of fds (tests/net/fd_exhaustion.lua), at
 * 1, 2 and 4 workers.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "util.h"
#include "watchdog.h"

/* Runs `sh -c cmd` with a time limit; its exit status, or -1. */
static int run_shell(const char *cmd, double limit, char *out, size_t outlen) {
  char tmpl[] = "/tmp/lungo-net-XXXXXX";
  int fd = mkstemp(tmpl);
  if (fd < 0) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    test_child_dies_with_parent();
    dup2(fd, 1);
    dup2(fd, 2);
    execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
    _exit(127);
  }
  int st = 0;
  double end = now_sec() + limit;
  for (;;) {
    pid_t r = waitpid(pid, &st, WNOHANG);
    if (r == pid) break;
    if (now_sec() > end) {
      kill(pid, SIGKILL);
      waitpid(pid, &st, 0);
      st = -1;
      break;
    }
    sleep_ms(10);
  }
  ssize_t n = pread(fd, out, outlen - 1, 0);
  out[n > 0 ? n : 0] = 0;
  close(fd);
  unlink(tmpl);
  if (st == -1 || !WIFEXITED(st)) return -1;
  return WEXITSTATUS(st);
}

ParameterizedTestParameters(net, fd_exhaustion) {
  static int workers[] = { 1, 2, 4 };
  return cr_make_param_array(int, workers, sizeof workers / sizeof *workers, NULL);
}

ParameterizedTest(int *workers, net, fd_exhaustion, .timeout = 120) {
  const char *bin = getenv("LUNGO_BIN");
  cr_assert(bin != NULL, "LUNGO_BIN is not set (make test sets it)");
  char cmd[1024], out[4096];
  snprintf(cmd, sizeof cmd, "ulimit -n 64 && exec '%s' -W %d tests/net/fd_exhaustion.lua", bin, *workers);
  int rc = run_shell(cmd, 100, out, sizeof out);
  cr_assert_eq(rc, 0, "workers=%d: exit %d\n%s", *workers, rc, out);
}

/* lng_net_pushstream, for other bindings (a process's pipes): a pipe's
   two ends as conns, through a global function each shard gets from the
   on_shard hook. */
#include <fcntl.h>
#include <lua.h>
#include <lauxlib.h>
#include "lungo.h"
#include "../lua-bindings/bindings.h"

static int pipe_streams(lua_State *L) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return luaL_error(L, "pipe: %s", strerror(errno));
  if (!lng_net_pushstream(L, p[0], 0)) return luaL_error(L, "stream: %s", strerror(errno));
  if (!lng_net_pushstream(L, p[1], 0)) return luaL_error(L, "stream: %s", strerror(errno));
  return 2;
}

static void add_pipe_streams(lua_State *L, int worker, void *ud) {
  (void)worker; (void)ud;
  lua_pushcfunction(L, pipe_streams);
  lua_setglobal(L, "pipe_streams");
}

Test(net, pipe_streams, .timeout = 60) {
  static const char code[] =
    "local r, w = pipe_streams()\n"
    "go(function() for i = 1, 3 do w:send('line ' .. i .. '\\n') go.sleep(0.001) end w:close() end)\n"
    "for i = 1, 3 do assert(r:receive('*l') == 'line ' .. i) end\n"
    "assert(r:receive('*a') == '')\n"
    "r:settimeout(0.01)\n"
    "local r2, w2 = pipe_streams()\n"
    "r2:settimeout(0.01)\n"
    "local d, err = r2:receive(1)\n"
    "assert(d == nil and err == 'timeout', err)\n"
    "r:close() r2:close() w2:close()\n";
  for (int n = 1; n <= 4; n *= 2) {
    lng_config cfg;
    lng_config_init(&cfg);
    cfg.workers = n;
    cfg.on_shard = add_pipe_streams;
    lng_runtime *rt = lng_new(&cfg);
    cr_assert_not_null(rt);
    cr_assert_eq(lng_main_string(rt, code, strlen(code), "=pipes"), LNG_OK);
    cr_assert_eq(lng_start(rt), LNG_OK);
    int st = lng_wait(rt);
    cr_assert_eq(st, LNG_OK, "workers=%d: %s", n, lng_message(rt));
    lng_destroy(rt);
  }
}
