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
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <lauxlib.h>
#include "bindings.h"
#include "pfile.h"
#include "../runtime/spawn.h"
#include "../vm/vm.h"
#include "../vm/block.h"

#define WAITREF "lungo.waitjob"

/* A wait in flight, on the goroutine's stack: its reference to the job. */
typedef struct waitref { lng_waitjob *j; } waitref;

static int waitref_gc(lua_State *L) {
  waitref *r = luaL_checkudata(L, 1, WAITREF);
  if (r->j) { lng_bjob_unref(&r->j->job); r->j = NULL; }
  return 0;
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

static int wait_done(lua_State *L, int res, lng_msg *box) {
  (void)res; (void)box;
  waitref *r = luaL_checkudata(L, lua_gettop(L), WAITREF);
  lng_waitjob *j = r->j;
  if (!j->reaped && j->err == ECANCELED) return luaL_error(L, "wait stopped: the runtime is stopping");
  int err = j->err, status = j->status;
  lng_bjob_unref(&j->job);
  r->j = NULL;
  return execresult(L, err, status);
}

static const lng_waitkind process_kind = { "os.execute", "process wait", lng_bpool_cancel, wait_done };

/* Waits for pid and returns os.execute's triple: parked where the
   goroutine can, blocking otherwise. */
static int waitchild(lua_State *L, pid_t pid) {
  lng_waiter *w = lng_block_waiter(L);
  if (w) {
    lng_waitjob *j = lng_waitjob_new(pid);
    if (!j) return luaL_error(L, "not enough memory");
    waitref *r = lua_newuserdatauv(L, sizeof *r, 0);
    r->j = j;
    luaL_setmetatable(L, WAITREF);
    if (lng_bpool_submit(lng_shard_of(L)->rt->bpool, &j->job, w) == LNG_RES_PARKED)
      return lng_block_on(L, &process_kind, &j->job, LNG_RES_PARKED);
    lng_bjob_unref(&j->job);
    r->j = NULL;
  }
  int status = 0;
  int err = lng_proc_waitpid(pid, &status);
  return execresult(L, err, status);
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
  fclose(pf->s.f);
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

void lng_open_process(lua_State *L) {
  luaL_newmetatable(L, WAITREF);
  lua_pushcfunction(L, waitref_gc);
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
}
