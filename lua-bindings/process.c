/*
 * Child processes from Lua: os.execute and io.popen keep Lua's results
 * but park the goroutine while the child runs, instead of blocking its
 * worker in system() or pclose(). Both start "/bin/sh -c command" with
 * posix_spawn (runtime/spawn.h: default signal actions, nothing blocked)
 * and wait on the pool. Where Lua cannot suspend (require, a metamethod,
 * __gc, outside a goroutine) they wait blocking, as in Lua.
 *
 * A popen file is a stock file (pfile.h) with its own close: it closes the
 * pipe, then waits for the child and returns what os.execute would. Its
 * reads park through stdio.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <lauxlib.h>
#include "bindings.h"
#include "pfile.h"
#include "../runtime/blockpool.h"
#include "../runtime/spawn.h"
#include "../runtime/proc.h"
#include "../vm/vm.h"
#include "../vm/block.h"
#include "../vm/args.h"
#include "../vm/proxy.h"

#define PWAIT "lungo.procwait"

/* A wait for a child in flight, on the goroutine's stack: its netpoller
   wait on the pidfd and its reference to the proc; without a pidfd, a
   job on the pool that blocks in waitid. */
typedef struct pwait {
  lng_iowait iw;
  lng_proc *p;
  lng_bjob *job;
} pwait;

static int pwait_gc(lua_State *L) {
  pwait *o = luaL_checkudata(L, 1, PWAIT);
  /* A goroutine dropped while it waited (the runtime's end) leaves its
     wait queued on the pidfd: taken off, or the proc's last reap would
     wake a goroutine that no longer exists. */
  if (o->iw.pd) lng_pollfd_cancel(&o->iw);
  if (o->job) { lng_bjob_unref(o->job); o->job = NULL; }
  if (o->p) { lng_obj_unref(&o->p->obj); o->p = NULL; }
  return 0;
}

/* The pool's job for a child without pidfd: waits (not reaping), and the
   goroutine reaps once woken. */
typedef struct pjob { lng_bjob job; lng_proc *p; } pjob;

static void pjob_run(lng_bjob *job) {
  lng_proc_wait_blocking(((pjob *)job)->p);
}

static void pjob_free(lng_bjob *job) {
  lng_obj_unref(&((pjob *)job)->p->obj);
  free(job);
}

/* What os.execute returns for a wait status (or an errno value). */
static int execresult(lua_State *L, int err, int status) {
  if (err) {
    errno = err;
    return luaL_fileresult(L, 0, NULL);
  }
  errno = 0;
  return luaL_execresult(L, status);
}

static int procresult(lua_State *L, lng_proc *p) {
  return execresult(L, p->err, p->status);
}

static int pwait_run(lua_State *L, pwait *o);

static int pwait_done(lua_State *L, int res, lng_msg *box) {
  (void)res; (void)box;
  return pwait_run(L, lua_touserdata(L, lua_gettop(L)));
}

static int pwait_cancel(void *obj, lng_waiter *w) {
  pwait *o = obj;
  return o->job ? lng_bpool_cancel(o->job, w) : lng_pollfd_cancel(&o->iw);
}

static const lng_waitkind procwait_kind = { "proc:wait", "process wait", pwait_cancel, pwait_done };

/* The wait, the pwait on top of the stack: reap if ended, else park on
   the pidfd (or the pool) and try again when woken. */
static int pwait_run(lua_State *L, pwait *o) {
  lng_proc *p = o->p;
  for (;;) {
    if (lng_proc_reap(p)) return procresult(L, p);
    if (o->job) {                   /* the pool's wait is over: the child has ended */
      lng_proc_wait_blocking(p);
      return procresult(L, p);
    }
    if (!p->pd) {
      lng_waiter *w = lng_block_waiter(L);
      pjob *j = calloc(1, sizeof *j);
      if (!j) return luaL_error(L, "not enough memory");
      j->job = (lng_bjob){ .run = pjob_run, .free = pjob_free, .lane = LNG_LANE_WAIT };
      lng_bjob_init(&j->job);
      j->p = p;
      lng_obj_ref(&p->obj);
      o->job = &j->job;
      if (lng_bpool_submit(lng_shard_of(L)->rt->bpool, &j->job, w) == LNG_RES_PARKED)
        return lng_block_on(L, &procwait_kind, o, LNG_RES_PARKED);
      continue;                     /* no pool thread: wait here (above) */
    }
    int r = lng_pollfd_wait(p->pd, LNG_POLL_READ, &o->iw);
    if (r == LNG_RES_PARKED) return lng_block_on(L, &procwait_kind, o, r);
  }
}

/* Waits for p and returns os.execute's triple: parked where the goroutine
   can, blocking (as Lua would) where it cannot. With `owned` the wait
   takes over the caller's reference to p. */
static int waitproc(lua_State *L, lng_proc *p, int owned) {
  if (!lng_block_possible(L)) {
    lng_proc_wait_blocking(p);
    int r = procresult(L, p);
    if (owned) lng_obj_unref(&p->obj);
    return r;
  }
  pwait *o = lua_newuserdatauv(L, sizeof *o, 0);
  memset(o, 0, sizeof *o);
  luaL_setmetatable(L, PWAIT);
  o->p = p;
  if (!owned) lng_obj_ref(&p->obj);
  lng_block_bind(L, &o->iw.w, 1);
  return pwait_run(L, o);
}

static lng_netpoll *netpoll(lua_State *L) {
  return lng_sched_netpoll(lng_shard_of(L)->rt->sched);
}

/* Waits for pid (a child of ours, not yet reaped). */
static int waitchild(lua_State *L, pid_t pid) {
  lng_proc *p = lng_block_possible(L) ? lng_proc_new(netpoll(L), pid) : NULL;
  if (!p) {                          /* where Lua cannot suspend (or no memory): as Lua */
    int status = 0;
    int err = lng_proc_waitpid(pid, &status);
    return execresult(L, err, status);
  }
  return waitproc(L, p, 1);
}

static int shell(const char *cmd, int fd0, int fd1, pid_t *pid) {
  char *argv[] = { "sh", "-c", (char *)cmd, NULL };
  lng_spawnopts o = { "/bin/sh", argv, NULL, NULL, { fd0, fd1, -1 } };
  return lng_proc_spawn(&o, pid);
}

static int os_execute(lua_State *L) {
  const char *cmd = luaL_optstring(L, 1, NULL);
  if (!cmd || !lng_block_waiter(L))          /* the shell's presence; or cannot park */
    return lua_tocfunction(L, lua_upvalueindex(1))(L);
  pid_t pid;
  int err = shell(cmd, -1, -1, &pid);
  if (err) return execresult(L, err, 0);
  return waitchild(L, pid);
}

int lng_pfile_close(lua_State *L) {
  lng_pfile *pf = luaL_checkudata(L, 1, LUA_FILEHANDLE);
  if (pf->busy) {                            /* a read on the pool still uses the FILE */
    pf->s.closef = lng_pfile_close;
    luaL_pushfail(L);
    lua_pushliteral(L, "file is busy");
    return 2;
  }
  if (pf->pid == 0) {                        /* no child: as liolib's io_fclose */
    int ok = fclose(pf->s.f) == 0;
    pf->s.f = NULL;
    return luaL_fileresult(L, ok, NULL);
  }
  if (pf->writing) {
    /* flushing to a child that has gone: EPIPE, not lungo's death by
       SIGPIPE (raised for this thread, blocked, then taken back) */
    sigset_t pipeset, old;
    sigemptyset(&pipeset);
    sigaddset(&pipeset, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipeset, &old);
    fclose(pf->s.f);
    struct timespec zero = { 0, 0 };
    while (sigtimedwait(&pipeset, NULL, &zero) > 0) {}
    pthread_sigmask(SIG_SETMASK, &old, NULL);
  } else {
    fclose(pf->s.f);
  }
  pf->s.f = NULL;
  return waitchild(L, pf->pid);
}

static int io_popen(lua_State *L) {
  const char *prog = luaL_checkstring(L, 1);
  const char *mode = luaL_optstring(L, 2, "r");
  luaL_argcheck(L, (mode[0] == 'r' || mode[0] == 'w') && mode[1] == 0, 2, "invalid mode");
  lng_pfile *pf = lua_newuserdatauv(L, sizeof *pf, 0);
  pf->s.f = NULL;
  pf->s.closef = NULL;                       /* a closed file until it is open */
  pf->busy = 0;
  pf->writing = mode[0] == 'w';
  luaL_setmetatable(L, LUA_FILEHANDLE);
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return luaL_fileresult(L, 0, prog);
  int reading = mode[0] == 'r';
  int mine = reading ? fds[0] : fds[1], theirs = reading ? fds[1] : fds[0];
  fflush(NULL);                              /* as Lua's l_popen: output so far comes first */
  int err = shell(prog, reading ? -1 : theirs, reading ? theirs : -1, &pf->pid);
  close(theirs);
  FILE *f = err ? NULL : fdopen(mine, mode);
  if (!f) {
    if (!err) {                              /* started, but no FILE: it sees EOF or EPIPE and ends */
      err = errno;
      close(mine);
      int st;
      lng_proc_waitpid(pf->pid, &st);
    } else {
      close(mine);
    }
    errno = err;
    return luaL_fileresult(L, 0, prog);
  }
  pf->s.f = f;
  pf->s.closef = lng_pfile_close;
  return 1;
}

/* ---- go.exec ---- */

static lng_proc *checkproc(lua_State *L, int idx) {
  return (lng_proc *)lng_proxy_check(L, &lng_shard_of(L)->proxies, idx, LNG_OBJ_PROC, "proc");
}

enum { IO_INHERIT, IO_NULL, IO_PIPE };

static int iomode(lua_State *L, int opts, const char *name) {
  static const char *const modes[] = { "inherit", "null", "pipe", NULL };
  if (opts == 0) return IO_INHERIT;
  lua_getfield(L, opts, name);
  int m = IO_INHERIT;
  if (!lua_isnil(L, -1)) {
    const char *v = lua_tostring(L, -1);
    for (m = 0; modes[m] && (!v || strcmp(v, modes[m]) != 0); m++) {}
    if (!modes[m]) {
      lua_pushfstring(L, "opts.%s must be \"inherit\", \"null\" or \"pipe\"", name);
      lng_argerror(L, 2, lua_tostring(L, -1));
    }
  }
  lua_pop(L, 1);
  return m;
}

/* go.exec(argv [, opts]) -> proc | nil, err */
static int go_exec(lua_State *L) {
  lng_checktype(L, 1, LUA_TTABLE);
  int opts = 0;
  if (!lua_isnoneornil(L, 2)) { lng_checktype(L, 2, LUA_TTABLE); opts = 2; }
  lua_settop(L, 2);
  lua_Integer n = luaL_len(L, 1);
  lng_argcheck(L, n >= 1, 1, "argv must hold the program");
  lng_argcheck(L, n < 1 << 20, 1, "argv too long");
  luaL_checkstack(L, 8, "go.exec");
  lua_newtable(L);                    /* 3: keeps argv's and env's strings alive */
  char **argv = lua_newuserdatauv(L, (size_t)(n + 1) * sizeof *argv, 0);   /* 4 */
  for (lua_Integer i = 1; i <= n; i++) {
    lua_geti(L, 1, i);
    if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER) {
      lua_pushfstring(L, "argv[%d] must be a string", (int)i);
      lng_argerror(L, 1, lua_tostring(L, -1));
    }
    lua_pushstring(L, lua_tostring(L, -1));          /* a number as its text */
    argv[i - 1] = (char *)lua_tostring(L, -1);
    lua_rawseti(L, 3, i);
    lua_pop(L, 1);
  }
  argv[n] = NULL;
  int modes[3] = { iomode(L, opts, "stdin"), iomode(L, opts, "stdout"), iomode(L, opts, "stderr") };
  const char *cwd = NULL;
  char **envp = NULL;
  if (opts) {
    lua_getfield(L, opts, "cwd");
    if (!lua_isnil(L, -1)) {
      lng_argcheck(L, lua_type(L, -1) == LUA_TSTRING, 2, "opts.cwd must be a string");
      cwd = lua_tostring(L, -1);
      lua_rawseti(L, 3, n + 1);
    } else lua_pop(L, 1);
    lua_getfield(L, opts, "env");     /* 5 */
    if (!lua_isnil(L, -1)) {
      lng_argcheck(L, lua_type(L, -1) == LUA_TTABLE, 2, "opts.env must be a table");
      size_t cnt = 0;
      lua_pushnil(L);
      while (lua_next(L, 5)) { cnt++; lua_pop(L, 1); }
      envp = lua_newuserdatauv(L, (cnt + 1) * sizeof *envp, 0);
      lua_rawseti(L, 3, n + 2);
      size_t k = 0;
      lua_pushnil(L);
      while (lua_next(L, 5)) {
        if (lua_type(L, -2) == LUA_TNUMBER && lua_type(L, -1) == LUA_TSTRING) {
          lua_pushvalue(L, -1);                       /* {"K=V", ...} */
        } else {
          lng_argcheck(L, lua_type(L, -2) == LUA_TSTRING &&
                       (lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER),
                       2, "opts.env must map names to strings");
          lua_pushfstring(L, "%s=%s", lua_tostring(L, -2), lua_tostring(L, -1));
        }
        envp[k++] = (char *)lua_tostring(L, -1);
        lua_rawseti(L, 3, (lua_Integer)(n + 3 + (lua_Integer)k));
        lua_pop(L, 1);
      }
      envp[k] = NULL;
    }
    lua_pop(L, 1);
  }
  /* the descriptors: the child's ends and ours */
  int child[3] = { -1, -1, -1 }, mine[3] = { -1, -1, -1 };
  int err = 0;
  for (int i = 0; i < 3 && !err; i++) {
    if (modes[i] == IO_NULL) {
      child[i] = open("/dev/null", O_RDWR | O_CLOEXEC);
      if (child[i] < 0) err = errno;
    } else if (modes[i] == IO_PIPE) {
      int fds[2];
      if (pipe2(fds, O_CLOEXEC) != 0) { err = errno; break; }
      child[i] = i == 0 ? fds[0] : fds[1];
      mine[i] = i == 0 ? fds[1] : fds[0];
    }
  }
  pid_t pid = 0;
  if (!err) {
    lng_spawnopts o = { argv[0], argv, envp, cwd, { child[0], child[1], child[2] } };
    err = lng_proc_spawn(&o, &pid);
  }
  for (int i = 0; i < 3; i++) if (child[i] >= 0) close(child[i]);
  if (err) {
    for (int i = 0; i < 3; i++) if (mine[i] >= 0) close(mine[i]);
    luaL_pushfail(L);
    lua_pushfstring(L, "%s: %s", argv[0], strerror(err));
    return 2;
  }
  lng_proc *p = lng_proc_new(netpoll(L), pid);
  if (!p) {
    for (int i = 0; i < 3; i++) if (mine[i] >= 0) close(mine[i]);
    kill(pid, SIGKILL);
    int st;
    lng_proc_waitpid(pid, &st);
    return luaL_error(L, "not enough memory");
  }
  lng_proxy_push(L, &p->obj);
  lng_obj_unref(&p->obj);             /* the proxy's reference is the one left */
  for (int i = 0; i < 3; i++) {
    if (mine[i] < 0) continue;
    /* a conn of go.net's around the pipe: every conn method, read and write */
    if (!lng_net_pushstream(L, mine[i], 0)) {
      int e = errno;
      for (int k = i; k < 3; k++) if (mine[k] >= 0) close(mine[k]);
      return luaL_error(L, "cannot register a pipe: %s", strerror(e));
    }
    p->io[i] = lng_obj_ref(lng_proxy_test(L, -1));
    lua_pop(L, 1);
  }
  return 1;
}

static int proc_wait(lua_State *L) {
  lng_proc *p = checkproc(L, 1);
  lua_settop(L, 1);
  return waitproc(L, p, 0);
}

static int proc_kill(lua_State *L) {
  static const struct { const char *name; int sig; } names[] = {
    {"TERM", SIGTERM}, {"KILL", SIGKILL}, {"INT", SIGINT}, {"HUP", SIGHUP}, {"QUIT", SIGQUIT},
    {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"STOP", SIGSTOP}, {"CONT", SIGCONT}, {"PIPE", SIGPIPE},
    {"ALRM", SIGALRM}, {NULL, 0}
  };
  lng_proc *p = checkproc(L, 1);
  int sig = SIGTERM;
  if (lua_type(L, 2) == LUA_TSTRING) {
    const char *s = lua_tostring(L, 2);
    if (strncmp(s, "SIG", 3) == 0) s += 3;
    int i = 0;
    while (names[i].name && strcmp(names[i].name, s) != 0) i++;
    lng_argcheck(L, names[i].name != NULL, 1, "unknown signal name");
    sig = names[i].sig;
  } else if (!lua_isnoneornil(L, 2)) {
    lua_Integer v = lng_checkinteger(L, 2);
    lng_argcheck(L, v >= 0 && v < 65, 1, "signal number out of range");
    sig = (int)v;
  }
  int err = lng_proc_kill(p, sig);
  if (err) {
    luaL_pushfail(L);
    lua_pushstring(L, err == ESRCH ? "process already finished" : strerror(err));
    return 2;
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* proc.pid, proc.stdin/stdout/stderr, then the methods (upvalue 1). */
static int proc_index(lua_State *L) {
  lng_proc *p = checkproc(L, 1);
  const char *k = lua_tostring(L, 2);
  static const char *const io[] = { "stdin", "stdout", "stderr" };
  if (k && strcmp(k, "pid") == 0) {
    lua_pushinteger(L, p->pid);
    return 1;
  }
  for (int i = 0; k && i < 3; i++)
    if (strcmp(k, io[i]) == 0) {
      if (p->io[i]) lng_proxy_push(L, p->io[i]);
      else lua_pushnil(L);
      return 1;
    }
  lua_pushvalue(L, 2);
  lua_rawget(L, lua_upvalueindex(1));
  return 1;
}

static int proc_tostring(lua_State *L) {
  lua_pushfstring(L, "proc: %p", (void *)checkproc(L, 1));
  return 1;
}

void lng_open_process(lua_State *L) {
  luaL_newmetatable(L, PWAIT);
  lua_pushcfunction(L, pwait_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  lua_getfield(L, -1, "os");
  lua_getfield(L, -1, "execute");
  lua_pushcclosure(L, os_execute, 1);
  lua_setfield(L, -2, "execute");
  lua_pop(L, 1);
  lua_getfield(L, -1, "io");
  lua_pushcfunction(L, io_popen);
  lua_setfield(L, -2, "popen");
  lua_pop(L, 1);
  static const luaL_Reg methods[] = { {"wait", proc_wait}, {"kill", proc_kill}, {NULL, NULL} };
  static const luaL_Reg metas[] = { {"__tostring", proc_tostring}, {NULL, NULL} };
  lng_proxy_newkind(L, LNG_OBJ_PROC, "proc", "proc:", methods, proc_index, metas);
  lua_getfield(L, -1, "go");
  lua_pushcfunction(L, go_exec);
  lng_setname(L, -1, "go.exec");
  lua_setfield(L, -2, "exec");
  lua_pop(L, 1);
}
