/*
 * Reads and writes that park instead of blocking a worker.
 *
 * Reads: io.read, io.lines() and the read and lines methods of files,
 * when the file is standard input (a pipe, a terminal, a socket: not a
 * regular file, whose reads never wait) or a pipe of io.popen. The
 * formats run on the pool (runtime/filejob.h) on the same FILE, so
 * results are the stock functions' and a program may mix both. A read the
 * buffer can already serve (a buffered line for "l") is the stock one:
 * io.lines() over a pipe goes to the pool once per buffer, not per line.
 *
 * Writes: io.write, the write method of files, print (base.c), and
 * io.flush and the flush method of files, when
 * the file is standard output or error that is a pipe or a socket, or a
 * popen pipe that writes. A write that cannot wait (the bytes stay in the
 * FILE's buffer, or what reaches write(2) is at most PIPE_BUF bytes and
 * the descriptor polls writable) is the stock one; any other is converted
 * here as the stock function would (in the goroutine) and written, same
 * FILE, same bytes, on the pool while the goroutine parks. The look is
 * taken under the FILE's lock, so no pool thread's write of that FILE
 * comes between it and the write; another writer of the same pipe (a
 * second FILE on it, another process) still may: there the poll is a
 * good guess, not a promise.
 *
 * Everything else, and every call where Lua cannot suspend (require, a
 * metamethod, __gc, outside a goroutine), is the stock function, which
 * blocks as in Lua.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio_ext.h>
#include <string.h>
#include <sys/stat.h>
#include <lauxlib.h>
#include "bindings.h"
#include "pfile.h"
#include "../runtime/filejob.h"
#include "../vm/vm.h"
#include "../vm/block.h"

#define IO_INPUT "_IO_input"       /* liolib's registry keys of the default files */
#define IO_OUTPUT "_IO_output"
#define JOBREF "lungo.readjob"

/* A read in flight, on the reading goroutine's stack: it keeps the job
   (which the pool may still run after an interrupt) and marks a popen
   file busy until it is collected or the read is over. */
typedef struct jobref {
  lng_bjob *job;                   /* an lng_readjob, or an lng_writejob */
  lng_pfile *pf;
  int first;                       /* the stack index of the first format; a write's file (0: print) */
  int lines;                       /* for a lines iterator: results as io_readline's; a write's bad value */
} jobref;

static void jobref_release(jobref *r) {
  if (r->pf) { r->pf->busy--; r->pf = NULL; }
  if (r->job) { lng_bjob_unref(r->job); r->job = NULL; }
}

static int jobref_gc(lua_State *L) {
  jobref_release(luaL_checkudata(L, 1, JOBREF));
  return 0;
}

/* Whether reads of p may wait on the pool: open, and standard input that
   is not a regular file, or a popen pipe. */
static int parkable(luaL_Stream *p) {
  if (!p->closef || !p->f) return 0;
  if (lng_pfile_of(p)) return 1;
  if (fileno(p->f) != 0) return 0;
  struct stat st;
  return fstat(0, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode) || S_ISSOCK(st.st_mode));
}

/* The formats at first..top as the job's; a bad one becomes STOP, raised
   (by the continuation) only if the formats before it all succeed, as
   g_read raises it when it gets there. */
static void formats(lua_State *L, int first, int last, lng_readjob *j) {
  int nargs = last - first + 1;
  if (nargs <= 0) { j->fmt[0] = (lng_rfmt){ LNG_RFMT_LINE, 0 }; return; }
  for (int k = 0; k < nargs; k++) {
    int idx = first + k;
    lng_rfmt *fm = &j->fmt[k];
    *fm = (lng_rfmt){ LNG_RFMT_STOP, 0 };
    if (lua_type(L, idx) == LUA_TNUMBER) {
      int isint;
      lua_Integer n = lua_tointegerx(L, idx, &isint);
      if (isint) *fm = (lng_rfmt){ LNG_RFMT_COUNT, (size_t)n };
    } else {
      const char *p = lua_tostring(L, idx);
      if (!p) continue;
      if (*p == '*') p++;
      switch (*p) {
        case 'n': fm->kind = LNG_RFMT_NUMBER; break;
        case 'l': fm->kind = LNG_RFMT_LINE; break;
        case 'L': fm->kind = LNG_RFMT_LINEKEEP; break;
        case 'a': fm->kind = LNG_RFMT_ALL; break;
        default: break;
      }
    }
  }
}

static int pushresults(lua_State *L, jobref *r) {
  lng_readjob *j = (lng_readjob *)r->job;
  if (j->stopped) return luaL_error(L, "read stopped: the runtime is stopping");
  if (j->nomem) return luaL_error(L, "not enough memory");
  if (j->err) {
    errno = j->err;
    return luaL_fileresult(L, 0, NULL);
  }
  luaL_checkstack(L, j->nres + LUA_MINSTACK, "too many arguments");
  for (int i = 0; i < j->nres; i++) {
    lng_rres *res = &j->res[i];
    const char *s = j->buf ? j->buf + res->off : "";
    if (j->fmt[i].kind == LNG_RFMT_NUMBER) {
      char num[256];
      size_t n = res->len < sizeof num - 1 ? res->len : sizeof num - 1;
      memcpy(num, s, n);
      num[n] = 0;
      if (!res->ok || !lua_stringtonumber(L, num)) lua_pushnil(L);
    } else {
      lua_pushlstring(L, s, res->len);
    }
  }
  int n = j->nres;
  if (n > 0 && !j->res[n - 1].ok) {
    lua_pop(L, 1);
    luaL_pushfail(L);
  } else if (n < j->nfmt && j->fmt[n].kind == LNG_RFMT_STOP) {
    int idx = r->first + n;
    if (lua_type(L, idx) == LUA_TNUMBER) luaL_checkinteger(L, idx);
    else luaL_checkstring(L, idx);
    return luaL_argerror(L, idx, "invalid format");
  }
  return n;
}

/* What io_readline does with g_read's results. */
static int lines_results(lua_State *L, int n) {
  if (lua_toboolean(L, -n)) return n;
  if (n > 1) return luaL_error(L, "%s", lua_tostring(L, -n + 1));
  return 0;
}

static int read_done(lua_State *L, int res, lng_msg *box) {
  (void)res; (void)box;
  jobref *r = luaL_checkudata(L, lua_gettop(L), JOBREF);
  int n = pushresults(L, r);
  jobref_release(r);
  return r->lines ? lines_results(L, n) : n;
}

static const lng_waitkind stdin_kind = { "io.read", "stdin", lng_bpool_cancel, read_done };
static const lng_waitkind pipe_kind = { "io.read", "process wait", lng_bpool_cancel, read_done };
static const lng_waitkind file_kind = { "io.read", "file wait", lng_bpool_cancel, read_done };

/* Whether one format is served by what the FILE has buffered already. */
static int served_now(lua_State *L, luaL_Stream *p, int first, int last) {
  int nargs = last - first + 1;
  if (nargs > 1) return 0;
  lng_rfmt fm = { LNG_RFMT_LINE, 0 };
  if (nargs == 1) {
    if (lua_type(L, first) == LUA_TNUMBER) {
      int isint;
      lua_Integer n = lua_tointegerx(L, first, &isint);
      if (!isint || n <= 0) return 0;
      fm = (lng_rfmt){ LNG_RFMT_COUNT, (size_t)n };
    } else {
      const char *s = lua_tostring(L, first);
      if (!s) return 0;
      if (*s == '*') s++;
      if (*s == 'n') fm.kind = LNG_RFMT_NUMBER;
      else if (*s != 'l' && *s != 'L') return 0;
    }
  }
  return lng_readjob_buffered(p->f, &fm);
}

/* The read of p with formats at first..last, parked on the pool; or -1
   when it must be the stock read (cannot park, nothing would wait, or no
   pool thread could start). The caller has p's userdata on the stack. */
static int park_read(lua_State *L, luaL_Stream *p, int first, int last, int lines) {
  /* the buffer first: reading it costs no system call, fstat does */
  if (!p->closef || served_now(L, p, first, last) || !parkable(p)) return -1;
  lng_waiter *w = lng_block_waiter(L);
  if (!w) return -1;
  int nargs = last - first + 1;
  luaL_checkstack(L, (nargs > 0 ? nargs : 0) + LUA_MINSTACK, "too many arguments");
  lng_readjob *j = lng_readjob_new(p->f, nargs > 0 ? nargs : 1);
  if (!j) return luaL_error(L, "not enough memory");
  formats(L, first, last, j);
  jobref *r = lua_newuserdatauv(L, sizeof *r, 0);
  *r = (jobref){ &j->job, NULL, first, lines };
  luaL_setmetatable(L, JOBREF);
  lng_pfile *pf = lng_pfile_of(p);
  int res = lng_bpool_submit(lng_shard_of(L)->rt->bpool, &j->job, w);
  if (res != LNG_RES_PARKED) {
    jobref_release(r);
    lua_pop(L, 1);
    return -1;
  }
  if (pf) { pf->busy++; r->pf = pf; }
  return lng_block_on(L, !pf ? &stdin_kind : pf->pid ? &pipe_kind : &file_kind, &j->job, LNG_RES_PARKED);
}

/* The stock C function kept as upvalue 1, run in this call's frame (so
   its argument errors name the function as the program called it). */
static int stock(lua_State *L) {
  return lua_tocfunction(L, lua_upvalueindex(1))(L);
}

static int io_read(lua_State *L) {
  int top = lua_gettop(L);
  lua_getfield(L, LUA_REGISTRYINDEX, IO_INPUT);     /* kept: the read holds the file */
  luaL_Stream *p = luaL_testudata(L, -1, LUA_FILEHANDLE);
  if (p) {
    int r = park_read(L, p, 1, top, 0);
    if (r >= 0) return r;
  }
  lua_settop(L, top);
  return stock(L);
}

static int f_read(lua_State *L) {
  luaL_Stream *p = luaL_testudata(L, 1, LUA_FILEHANDLE);
  if (p) {
    int top = lua_gettop(L);
    int r = park_read(L, p, 2, top, 0);
    if (r >= 0) return r;
    lua_settop(L, top);
  }
  return stock(L);
}

/* ---- writes that may wait for the reader ---- */

/* Where a write may wait: a popen pipe that writes, or standard output or
   error (fd 1, 2) while it is a pipe or a socket. A terminal or a regular
   file takes what it is given: those keep the stock write untouched. The
   answer for fd 1 and 2 is the shard's, kept (fstat is a system call, and
   print would ask at every line). */
static int std_sink(lua_State *L, int fd) {
  if (fd != 1 && fd != 2) return 0;
  signed char *known = &lng_shard_of(L)->stdsink[fd];
  if (!*known) {
    struct stat st;
    *known = fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) ? 1 : 2;
  }
  return *known == 1;
}

/* Whether the caller is the only goroutine there is: then a write that
   waits for the reader holds up nobody else, and the stock write (no
   poll a line) is the right one, as for `lungo gen.lua | sort`. */
static int alone(lua_State *L) {
  return lng_sched_live(lng_shard_of(L)->rt->sched) == 1;
}

/* Whether len more bytes stay in f's buffer: no flush, no system call.
   (A line-buffered FILE may flush on a newline, an unbuffered one always
   writes: neither counts.) */
static int fits_buffer(FILE *f, size_t len) {
  size_t size = __fbufsize(f), pending = __fpending(f);
  return size > 1 && !__flbf(f) && pending < size && len < size - pending;
}

/* Whether what reaches write(2) goes through at once: a pipe that polls
   writable has room for PIPE_BUF bytes (a socket's send buffer for more).
   A write of len bytes that does not fit the buffer sends the buffer full
   (then the rest, unless it is shorter than a buffer: it stays); a flush,
   or a FILE that is line-buffered or unbuffered, what is pending and the
   new bytes. */
static int writable_now(FILE *f, size_t len, int flush) {
  size_t size = __fbufsize(f), out = __fpending(f) + len;
  if (!flush && size > 1 && !__flbf(f) && len < size && out > size) out = size;
  if (out > PIPE_BUF) return 0;
  struct pollfd pfd = { fileno(f), POLLOUT, 0 };
  return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLOUT);
}

/* The end of a parked write. jobref.first is the file's stack index (the
   result), 0 for print (no result, errors ignored as b_print does), -1
   for a flush (true, or the stock error results);
   jobref.lines the index of a value that is no string, whose error
   comes after the values before it are written, as in g_write. */
static int write_done(lua_State *L, int res, lng_msg *box) {
  (void)res; (void)box;
  jobref *r = luaL_checkudata(L, lua_gettop(L), JOBREF);
  lng_writejob *j = (lng_writejob *)r->job;
  /* (a file with no child, standard output or a FIFO, dies as in Lua) */
  int stopped = j->stopped, ok = j->ok, err = j->err, std = !r->pf || !r->pf->pid;
  int file = r->first, bad = r->lines;
  jobref_release(r);
  if (stopped) return luaL_error(L, "write stopped: the runtime is stopping");
  /* the pool thread got EPIPE where this worker's write would have got
     SIGPIPE: standard output ends the program as in Lua (unless SIGPIPE
     is ignored); a popen pipe gives "Broken pipe" (README) */
  if (!ok && err == EPIPE && std) raise(SIGPIPE);
  if (bad) luaL_checklstring(L, bad, NULL);          /* raises */
  if (!file) return 0;
  if (file < 0) {
    errno = err;
    return luaL_fileresult(L, ok, NULL);
  }
  if (!ok) {
    errno = err;
    return luaL_fileresult(L, 0, NULL);
  }
  lua_pushvalue(L, file);
  return 1;
}

static const lng_waitkind pipe_write_kind = { "file:write", "process wait", lng_bpool_cancel, write_done };
static const lng_waitkind file_write_kind = { "file:write", "file wait", lng_bpool_cancel, write_done };
static const lng_waitkind stdout_kind = { "io.write", "stdout", lng_bpool_cancel, write_done };
static const lng_waitkind stderr_kind = { "io.write", "stderr", lng_bpool_cancel, write_done };

/* Parks while the pool writes the string on top of the stack to f (and
   flushes f, with flush); see write_done for file and bad. -1 when no
   pool thread could start: the caller writes itself. */
static int park_write(lua_State *L, lng_waiter *w, FILE *f, lng_pfile *pf, int flush,
                      int file, int bad) {
  size_t len;
  const char *data = lua_tolstring(L, -1, &len);
  lng_writejob *j = lng_writejob_new(f, data, len);
  if (!j) return luaL_error(L, "not enough memory");
  j->flush = flush;
  lua_pop(L, 1);
  jobref *r = lua_newuserdatauv(L, sizeof *r, 0);
  *r = (jobref){ &j->job, NULL, file, bad };
  luaL_setmetatable(L, JOBREF);
  if (lng_bpool_submit(lng_shard_of(L)->rt->bpool, &j->job, w) != LNG_RES_PARKED) {
    jobref_release(r);
    lua_pop(L, 1);
    return -1;
  }
  if (pf) { pf->busy++; r->pf = pf; }
  const lng_waitkind *kind = pf ? (pf->pid ? &pipe_write_kind : &file_write_kind)
                                 : fileno(f) == 1 ? &stdout_kind : &stderr_kind;
  return lng_block_on(L, kind, &j->job, LNG_RES_PARKED);
}

/* Longest text of a number as g_write prints it (LUA_INTEGER_FMT,
   LUA_NUMBER_FMT): a bound for the fast path's arithmetic. */
#define NUMTEXT_MAX 64

/* The goroutine's waiter for a write or flush of p that may have to wait
   (*pf set: p's popen or waiting file, or NULL), or NULL when it is to be
   the stock call: p closed or not written to, or standard output or error
   that is a terminal or a file, or written by the only goroutine (which
   holds up nobody by blocking), or a caller that cannot park. */
static lng_waiter *writer_waiter(lua_State *L, luaL_Stream *p, lng_pfile **pf) {
  if (!p->closef || !p->f) return NULL;
  *pf = lng_pfile_of(p);
  int fd = fileno(p->f);
  if (*pf ? !(*pf)->writing : (fd != 1 && fd != 2)) return NULL;
  if (!*pf && (!std_sink(L, fd) || alone(L))) return NULL;
  return lng_block_waiter(L);
}

/* The write of the values at first..last to p (the file at stack index
   file), parked when it may wait; -1 when it must be the stock write
   (cannot park, cannot wait, no pool thread). The values are converted
   here as g_write does, up to the first that is no string or number. */
static int park_write_values(lua_State *L, luaL_Stream *p, int file, int first, int last) {
  lng_pfile *pf;
  lng_waiter *w = writer_waiter(L, p, &pf);
  if (!w) return -1;
  size_t len = 0;
  int bad = 0;
  for (int i = first; i <= last && !bad; i++) {
    int t = lua_type(L, i);
    if (t == LUA_TNUMBER) len += NUMTEXT_MAX;
    else if (t == LUA_TSTRING) len += lua_rawlen(L, i);
    else bad = i;
  }
  /* The buffer first: looking costs no system call, fstat and poll do.
     Under the FILE's lock, so that a pool thread's write is not half-way
     through it; one holding it now is writing: wait behind it. (The lock
     is let go before the stock write, which may raise an error.) */
  if (ftrylockfile(p->f) == 0) {
    int quick = fits_buffer(p->f, len) || writable_now(p->f, len, 0);
    funlockfile(p->f);
    if (quick) return -1;
  }
  if (bad == first) return -1;                         /* nothing to write: the error */
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (int i = first; i <= last && i != bad; i++) {
    if (lua_type(L, i) == LUA_TNUMBER) {
      char num[NUMTEXT_MAX];
      int n = lua_isinteger(L, i)
              ? snprintf(num, sizeof num, LUA_INTEGER_FMT, (LUAI_UACINT)lua_tointeger(L, i))
              : snprintf(num, sizeof num, LUA_NUMBER_FMT, (LUAI_UACNUMBER)lua_tonumber(L, i));
      luaL_addlstring(&b, num, (size_t)n);
    } else {
      size_t n;
      const char *s = lua_tolstring(L, i, &n);
      luaL_addlstring(&b, s, n);
    }
  }
  luaL_pushresult(&b);
  return park_write(L, w, p->f, pf, 0, file, bad);
}

/* The flush of p, parked when what it holds may have to wait for a
   pipe's reader; -1 when it must be the stock flush. */
static int park_flush(lua_State *L, luaL_Stream *p) {
  lng_pfile *pf;
  lng_waiter *w = writer_waiter(L, p, &pf);
  if (!w) return -1;
  if (ftrylockfile(p->f) == 0) {
    int quick = __fpending(p->f) == 0 || writable_now(p->f, 0, 1);
    funlockfile(p->f);
    if (quick) return -1;
  }
  lua_pushliteral(L, "");
  return park_write(L, w, p->f, pf, 1, -1, 0);
}

/* The file at idx, or NULL. Upvalue 2 of the write functions is the
   files' metatable: comparing with it costs a fraction of luaL_testudata's
   lookup by name, and every write asks. */
static luaL_Stream *tofile_fast(lua_State *L, int idx) {
  luaL_Stream *p = lua_touserdata(L, idx);
  if (!p || !lua_getmetatable(L, idx)) return NULL;
  int ok = lua_rawequal(L, -1, lua_upvalueindex(2));
  lua_pop(L, 1);
  return ok ? p : NULL;
}

/* f:write(...) and io.write(...): parked where the write may wait for a
   pipe's reader (park_write_values), else the stock write (upvalue 1). */
static int f_write(lua_State *L) {
  luaL_Stream *p = tofile_fast(L, 1);
  if (p) {
    int top = lua_gettop(L);
    int r = park_write_values(L, p, 1, 2, top);
    if (r >= 0) return r;
    lua_settop(L, top);
  }
  return stock(L);
}

/* Upvalue 3: the registry key of the default output, a string already
   (lua_getfield would look the C string up first). */
static int io_write(lua_State *L) {
  int top = lua_gettop(L);
  lua_pushvalue(L, lua_upvalueindex(3));
  lua_rawget(L, LUA_REGISTRYINDEX);                 /* kept: the write returns it */
  luaL_Stream *p = tofile_fast(L, -1);
  if (p) {
    int r = park_write_values(L, p, top + 1, 1, top);
    if (r >= 0) return r;
  }
  lua_settop(L, top);
  return stock(L);
}

/* f:flush() and io.flush(): upvalues as f_write's and io_write's. */
static int f_flush(lua_State *L) {
  luaL_Stream *p = tofile_fast(L, 1);
  if (p) {
    int top = lua_gettop(L);
    int r = park_flush(L, p);
    if (r >= 0) return r;
    lua_settop(L, top);
  }
  return stock(L);
}

static int io_flush(lua_State *L) {
  int top = lua_gettop(L);
  lua_pushvalue(L, lua_upvalueindex(3));
  lua_rawget(L, LUA_REGISTRYINDEX);
  luaL_Stream *p = tofile_fast(L, -1);
  if (p) {
    int r = park_flush(L, p);
    if (r >= 0) return r;
  }
  lua_settop(L, top);
  return stock(L);
}

/* The check and the write under stdout's lock (nothing here raises an
   error): no pool thread's write comes between them. */
int lng_stdout_print(lua_State *L, const char *s, size_t len) {
  lng_waiter *w = lng_block_waiter(L);
  if (w && std_sink(L, fileno(stdout)) && !alone(L)) {
    int quick = ftrylockfile(stdout) == 0;
    if (quick && !writable_now(stdout, len, 1)) {
      funlockfile(stdout);
      quick = 0;
    }
    if (!quick) {
      lua_pushlstring(L, s, len);
      int r = park_write(L, w, stdout, NULL, 1, 0, 0);
      if (r >= 0) return r;
      flockfile(stdout);
    }
    fwrite(s, 1, len, stdout);
    fflush(stdout);
    funlockfile(stdout);
    return 0;
  }
  fwrite(s, 1, len, stdout);
  fflush(stdout);
  return 0;
}

/* The iterator of io.lines() and f:lines(...): upvalue 1 the file, 2 the
   number of formats, then the formats; upvalue 2 + n + 1 the stock f:read.
   As io_readline: an error while reading is raised, the end gives nil. */
static int readline(lua_State *L) {
  luaL_Stream *p = lua_touserdata(L, lua_upvalueindex(1));
  int n = (int)lua_tointeger(L, lua_upvalueindex(2));
  if (!p->closef) return luaL_error(L, "file is already closed");
  lua_settop(L, 0);
  luaL_checkstack(L, n + 1, "too many arguments");
  lua_pushvalue(L, lua_upvalueindex(1));
  for (int i = 1; i <= n; i++) lua_pushvalue(L, lua_upvalueindex(2 + i));
  int r = park_read(L, p, 2, n + 1, 1);
  if (r >= 0) return r;
  lua_settop(L, n + 1);
  r = lua_tocfunction(L, lua_upvalueindex(3 + n))(L);
  return lines_results(L, r);
}

#define MAXARGLINE 250               /* liolib's limit on formats for lines */

/* As liolib's aux_lines for a file not to be closed at the end (io.lines()
   and f:lines(...)), the file at 1 and the formats after it, but with this
   module's iterator; upvalue 1 is the stock read, which it falls back on,
   upvalue `stocklines` the stock f:lines. */
static int lines_of(lua_State *L, int stocklines) {
  luaL_Stream *p = luaL_checkudata(L, 1, LUA_FILEHANDLE);
  if (!p->closef) return luaL_error(L, "attempt to use a closed file");
  /* a file that can never wait (a regular file): the stock iterator, which
     costs nothing more than in Lua */
  if (!parkable(p)) return lua_tocfunction(L, lua_upvalueindex(stocklines))(L);
  int nfmt = lua_gettop(L) - 1;
  luaL_argcheck(L, nfmt <= MAXARGLINE, MAXARGLINE + 2, "too many arguments");
  luaL_checkstack(L, 3, "too many arguments");
  lua_pushinteger(L, nfmt);
  lua_insert(L, 2);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushcclosure(L, readline, 3 + nfmt);
  return 1;
}

/* The iterator of io.lines(name) over a waiting file: upvalue 1 the file,
   2 lines_of's iterator over it. At the end it closes the file, as
   liolib's does (a read error is raised by the inner one). */
static int closing_end(lua_State *L, int status, lua_KContext base) {
  (void)status;
  int n = lua_gettop(L) - (int)base;
  if (n > 0 && lua_toboolean(L, (int)base + 1)) return n;
  lua_settop(L, (int)base);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_getfield(L, -1, "close");
  lua_insert(L, -2);
  lua_call(L, 1, 0);
  return 0;
}

static int closing_readline(lua_State *L) {
  int base = lua_gettop(L);
  luaL_checkstack(L, 2, NULL);
  lua_pushvalue(L, lua_upvalueindex(2));
  lua_callk(L, 0, LUA_MULTRET, base, closing_end);
  return closing_end(L, LUA_OK, base);
}

static int io_lines(lua_State *L) {
  if (lua_type(L, 1) == LUA_TSTRING && lng_ioopen_lines(L, lua_tostring(L, 1)) == 0) {
    lua_replace(L, 1);                               /* the file for the name */
    lines_of(L, 3);                                  /* (takes the whole stack) */
    int iter = lua_gettop(L);
    lua_getupvalue(L, iter, 1);                      /* the file again */
    lua_pushvalue(L, -1);
    lua_pushvalue(L, iter);
    lua_pushcclosure(L, closing_readline, 2);
    lua_pushnil(L);                                  /* as liolib: state, control, */
    lua_pushnil(L);
    lua_pushvalue(L, iter + 1);                      /* and the file to be closed */
    return 4;
  }
  if (!lua_isnoneornil(L, 1)) return lua_tocfunction(L, lua_upvalueindex(2))(L);
  if (lua_isnone(L, 1)) lua_pushnil(L);
  lua_getfield(L, LUA_REGISTRYINDEX, IO_INPUT);    /* the default input, as liolib */
  lua_replace(L, 1);
  return lines_of(L, 3);
}

static int f_lines(lua_State *L) {
  return lines_of(L, 2);
}

void lng_open_stdio(lua_State *L) {
  luaL_newmetatable(L, JOBREF);
  lua_pushcfunction(L, jobref_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  /* the file methods: the stock read is also the lines iterator's */
  luaL_getmetatable(L, LUA_FILEHANDLE);
  lua_getfield(L, -1, "__index");
  lua_getfield(L, -1, "read");
  lua_CFunction fread_stock = lua_tocfunction(L, -1);
  lua_pushcclosure(L, f_read, 1);
  lua_setfield(L, -2, "read");
  lua_pushcfunction(L, fread_stock);
  lua_getfield(L, -2, "lines");
  lua_CFunction flines_stock = lua_tocfunction(L, -1);
  lua_pushcclosure(L, f_lines, 2);
  lua_setfield(L, -2, "lines");
  lua_getfield(L, -1, "write");
  lua_pushvalue(L, -3);                              /* the files' metatable */
  lua_pushcclosure(L, f_write, 2);
  lua_setfield(L, -2, "write");
  lua_getfield(L, -1, "flush");
  lua_pushvalue(L, -3);
  lua_pushcclosure(L, f_flush, 2);
  lua_setfield(L, -2, "flush");
  /* The wrappers hold the stock functions as upvalues, so they cannot be
     copied; a loaded module holding them makes them cross by name (as
     io.stdout.write did when it was liolib's plain C function), each
     arriving as the receiver's own (vm/modname.h). */
  lua_createtable(L, 0, 4);
  lua_getfield(L, -2, "read");
  lua_setfield(L, -2, "read");
  lua_getfield(L, -2, "lines");
  lua_setfield(L, -2, "lines");
  lua_getfield(L, -2, "write");
  lua_setfield(L, -2, "write");
  lua_getfield(L, -2, "flush");
  lua_setfield(L, -2, "flush");
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_insert(L, -2);
  lua_setfield(L, -2, "lungo.filemethods");
  lua_pop(L, 3);
  lua_getfield(L, -1, "io");
  lua_getfield(L, -1, "read");
  lua_pushcclosure(L, io_read, 1);
  lua_setfield(L, -2, "read");
  lua_pushcfunction(L, fread_stock);
  lua_getfield(L, -2, "lines");
  lua_pushcfunction(L, flines_stock);
  lua_pushcclosure(L, io_lines, 3);
  lua_setfield(L, -2, "lines");
  lua_getfield(L, -1, "write");
  luaL_getmetatable(L, LUA_FILEHANDLE);
  lua_pushliteral(L, IO_OUTPUT);
  lua_pushcclosure(L, io_write, 3);
  lua_setfield(L, -2, "write");
  lua_getfield(L, -1, "flush");
  luaL_getmetatable(L, LUA_FILEHANDLE);
  lua_pushliteral(L, IO_OUTPUT);
  lua_pushcclosure(L, io_flush, 3);
  lua_setfield(L, -2, "flush");
  lua_pop(L, 1);
}
