/*
 * io.open and io.lines(filename) of files whose reads and writes may wait:
 * named pipes (FIFOs) and terminals. Such a file is opened here as a
 * "waiting file" (pfile.h, with no child), so that stdio.c parks its
 * reads, writes and flushes on the pool as it does a popen pipe's; every
 * other file (regular files, /dev/null, /dev/urandom) is the stock one,
 * whose calls never wait for long.
 *
 * Opening a FIFO blocks in open(2) until the other end is opened too.
 * Here the descriptor is opened non-blocking, which for reading (or both)
 * succeeds at once, and a read then waits on the pool for a writer to
 * come and write (poll reports nothing until one has); for writing alone
 * it fails while no reader exists, so the goroutine parks while the pool
 * tries again every few milliseconds. Once open, the descriptor is made
 * blocking again and given to fdopen, so the FILE is what fopen would
 * have made.
 *
 * Where Lua cannot suspend (require, a metamethod, __gc, outside a
 * goroutine) these are the stock functions, which block as in Lua.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <lauxlib.h>
#include "bindings.h"
#include "pfile.h"
#include "../runtime/blockpool.h"
#include "../vm/vm.h"
#include "../vm/block.h"

#define OPENREF "lungo.openjob"
#define RETRY_MS 5                 /* a writer's wait for a reader: tries a second */

/* liolib's l_checkmode: [rwa]%+?b* */
static int validmode(const char *mode) {
  if (*mode == '\0' || !strchr("rwa", *mode++)) return 0;
  if (*mode == '+') mode++;
  return strspn(mode, "b") == strlen(mode);
}

static int openflags(const char *mode) {
  int plus = strchr(mode, '+') != NULL;
  switch (mode[0]) {
    case 'r': return plus ? O_RDWR : O_RDONLY;
    case 'w': return (plus ? O_RDWR : O_WRONLY) | O_CREAT | O_TRUNC;
    default:  return (plus ? O_RDWR : O_WRONLY) | O_CREAT | O_APPEND;
  }
}

/* Whether name is a file whose calls may wait: a FIFO, or a terminal
   (a character device isatty says is one, checked once it is open). */
static int waiting_kind(const char *name, int *fifo) {
  struct stat st;
  if (stat(name, &st) != 0) return 0;
  *fifo = S_ISFIFO(st.st_mode);
  return *fifo || S_ISCHR(st.st_mode);
}

/* fd (open, non-blocking) as a waiting file on the stack; -1 with errno
   set when it is no such file after all (a character device that is not
   a terminal: the caller opens it the stock way) or fdopen fails. */
static int pushfile(lua_State *L, int fd, int fifo, const char *mode) {
  if (!fifo && !isatty(fd)) {
    close(fd);
    errno = 0;
    return -1;
  }
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  lng_pfile *pf = lua_newuserdatauv(L, sizeof *pf, 0);
  pf->s.f = NULL;
  pf->s.closef = NULL;                       /* a closed file until it is open */
  pf->pid = 0;
  pf->busy = 0;
  pf->writing = mode[0] != 'r' || strchr(mode, '+') != NULL;
  luaL_setmetatable(L, LUA_FILEHANDLE);
  FILE *f = fdopen(fd, mode);
  if (!f) {
    int e = errno;
    close(fd);
    errno = e;
    lua_pop(L, 1);
    return -1;
  }
  pf->s.f = f;
  pf->s.closef = lng_pfile_close;
  return 0;
}

/* A writer's open of a FIFO while no reader has it, tried again on the
   pool until one does (or something else goes wrong). */
typedef struct openjob {
  lng_bjob job;
  char *name;
  int flags;
  int fd, err, stopped;
} openjob;

static void openjob_run(lng_bjob *job) {
  openjob *j = (openjob *)job;
  for (;;) {
    j->fd = open(j->name, j->flags | O_NONBLOCK | O_CLOEXEC);
    if (j->fd >= 0) return;
    if (errno != ENXIO) { j->err = errno; return; }
    if (lng_bjob_wait_fd(job, -1, 0, RETRY_MS) < 0) { j->stopped = 1; return; }
  }
}

static void openjob_free(lng_bjob *job) {
  openjob *j = (openjob *)job;
  if (j->fd >= 0) close(j->fd);              /* opened for a goroutine that has gone */
  free(j->name);
  free(j);
}

/* The goroutine's hold on its job (it may still run after an interrupt);
   output: the open is io.output's, which then makes the file the default
   output (its upvalue 1, the stock io.output, does). */
typedef struct openref { openjob *job; int output; } openref;

static int openref_gc(lua_State *L) {
  openref *r = luaL_checkudata(L, 1, OPENREF);
  if (r->job) { lng_bjob_unref(&r->job->job); r->job = NULL; }
  return 0;
}

/* Stack: name, mode, ..., the openref. */
static int open_done(lua_State *L, int res, lng_msg *box) {
  (void)res; (void)box;
  openref *r = luaL_checkudata(L, lua_gettop(L), OPENREF);
  openjob *j = r->job;
  const char *name = lua_tostring(L, 1), *mode = lua_tostring(L, 2);
  if (j->stopped) return luaL_error(L, "open stopped: the runtime is stopping");
  int fd = j->fd, err = j->err;
  j->fd = -1;                                /* ours now */
  lng_bjob_unref(&j->job);
  r->job = NULL;
  int output = r->output;
  errno = err;
  if (fd < 0 || pushfile(L, fd, 1, mode) < 0) {
    if (output)                              /* as liolib's opencheckfile */
      return luaL_error(L, "cannot open file '%s' (%s)", name, strerror(errno));
    return luaL_fileresult(L, 0, name);
  }
  if (!output) return 1;
  lua_replace(L, 1);
  lua_settop(L, 1);
  return lua_tocfunction(L, lua_upvalueindex(1))(L);
}

static const lng_waitkind open_kind = { "io.open", "file wait", lng_bpool_cancel, open_done };

/* Opens name with mode as a waiting file: 1 with the file pushed; 3 with
   io.open's failure results pushed; -1 when it must be the stock io.open
   (no such file, a character device that is no terminal, a bad mode,
   nowhere to park). A writer's open of a FIFO nobody reads parks, when
   park is set: the caller's stack is then name, mode (open_done). */
static int open_waiting(lua_State *L, const char *name, const char *mode, int park, int output) {
  int fifo;
  if (!validmode(mode) || !waiting_kind(name, &fifo)) return -1;
  lng_waiter *w = lng_block_waiter(L);
  if (!w) return -1;
  int flags = openflags(mode);
  int fd = open(name, flags | O_NONBLOCK | O_CLOEXEC);
  if (fd >= 0) {
    if (pushfile(L, fd, fifo, mode) < 0) return errno ? luaL_fileresult(L, 0, name) : -1;
    return 1;
  }
  if (errno != ENXIO || !fifo || !park) return luaL_fileresult(L, 0, name);
  /* a FIFO for writing that no one reads yet */
  openjob *j = calloc(1, sizeof *j);
  char *copy = j ? strdup(name) : NULL;
  if (!copy) { free(j); return luaL_error(L, "not enough memory"); }
  j->name = copy;
  j->flags = flags;
  j->fd = -1;
  j->job.run = openjob_run;
  j->job.free = openjob_free;
  j->job.lane = LNG_LANE_WAIT;
  j->job.abortable = 1;
  lng_bjob_init(&j->job);
  lua_settop(L, 2);
  openref *r = lua_newuserdatauv(L, sizeof *r, 0);
  r->job = j;
  r->output = output;
  luaL_setmetatable(L, OPENREF);
  if (lng_bpool_submit(lng_shard_of(L)->rt->bpool, &j->job, w) != LNG_RES_PARKED) {
    lng_bjob_unref(&j->job);
    r->job = NULL;
    lua_pop(L, 1);
    return -1;
  }
  return lng_block_on(L, &open_kind, &j->job, LNG_RES_PARKED);
}

/* As open_waiting, but a failure raises liolib's opencheckfile error:
   0 with the file pushed, or -1 (the stock function's turn). */
static int open_checked(lua_State *L, const char *name, const char *mode, int output) {
  int r = open_waiting(L, name, mode, output, output);
  if (r == 3) {
    int e = (int)lua_tointeger(L, -1);
    return luaL_error(L, "cannot open file '%s' (%s)", name, strerror(e));
  }
  return r < 0 ? -1 : 0;
}

int lng_ioopen_lines(lua_State *L, const char *name) {
  return open_checked(L, name, "r", 0);
}

/* io.input(name) and io.output(name): the stock functions (upvalue 1)
   given the waiting file instead of its name. io.output of a FIFO that
   nobody reads parks until someone does (open_done goes on from there). */
static int io_input(lua_State *L) {
  if (lua_type(L, 1) == LUA_TSTRING && open_checked(L, lua_tostring(L, 1), "r", 0) == 0) {
    lua_replace(L, 1);
    lua_settop(L, 1);
  }
  return lua_tocfunction(L, lua_upvalueindex(1))(L);
}

static int io_output(lua_State *L) {
  if (lua_type(L, 1) == LUA_TSTRING) {
    lua_settop(L, 1);
    lua_pushliteral(L, "w");                 /* name, mode: what open_done expects */
    if (open_checked(L, lua_tostring(L, 1), "w", 1) == 0) lua_replace(L, 1);   /* (or parks) */
    lua_settop(L, 1);
  }
  return lua_tocfunction(L, lua_upvalueindex(1))(L);
}

/* io.open: upvalue 1 is the stock one, run in this call's frame. */
static int io_open(lua_State *L) {
  const char *name = lua_tostring(L, 1);
  const char *mode = lua_isnoneornil(L, 2) ? "r" : lua_tostring(L, 2);
  if (name && mode && lua_type(L, 1) == LUA_TSTRING) {
    int top = lua_gettop(L);
    lua_settop(L, 2);
    if (lua_isnil(L, 2)) {
      lua_pushstring(L, mode);
      lua_replace(L, 2);
    }
    int r = open_waiting(L, lua_tostring(L, 1), lua_tostring(L, 2), 1, 0);
    if (r >= 0) return r;
    lua_settop(L, top);
  }
  return lua_tocfunction(L, lua_upvalueindex(1))(L);
}

void lng_open_ioopen(lua_State *L) {
  luaL_newmetatable(L, OPENREF);
  lua_pushcfunction(L, openref_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  lua_getfield(L, -1, "io");
  lua_getfield(L, -1, "open");
  lua_pushcclosure(L, io_open, 1);
  lua_setfield(L, -2, "open");
  lua_getfield(L, -1, "input");
  lua_pushcclosure(L, io_input, 1);
  lua_setfield(L, -2, "input");
  lua_getfield(L, -1, "output");
  lua_pushcclosure(L, io_output, 1);
  lua_setfield(L, -2, "output");
  lua_pop(L, 1);
}
