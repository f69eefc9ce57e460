/*
 * lungo's API as Lua sees it: one opener per file of lua-bindings/, each
 * called by lng_openlibs (init.c) with the shard's global table on top.
 */
#ifndef LNG_BINDINGS_H
#define LNG_BINDINGS_H

#include <lua.h>

void lng_openlibs(lua_State *L);               /* every one below, in order */

void lng_open_go(lua_State *L);                /* go: into the table on top */
void lng_open_chan(lua_State *L);              /* chan, go.chan */
void lng_open_sync(lua_State *L);              /* go.waitgroup, go.mutex, go.semaphore */
void lng_open_select(lua_State *L);            /* go.select, go.default */
void lng_open_time(lua_State *L);              /* go.sleep, after, ticker, now */
void lng_open_shared(lua_State *L);            /* go.atomic, go.dict */
void lng_open_timer(lua_State *L);             /* go.timer, go.afterfunc */
void lng_open_net(lua_State *L);               /* go.net, require "lungo.net": sockets */
/* For other bindings (a process's pipes): pushes a conn, with every conn
   method, around fd (any stream: a pipe when issock is 0, read and write
   instead of recv and send), registered with the runtime's poller, which
   owns fd from then on (closed with the conn). 1, or 0 with errno set and
   nothing pushed (fd still the caller's). Writing a pipe whose reader has
   gone gives "closed", not SIGPIPE (lng_write_nosigpipe, runtime/spawn.h). */
int lng_net_pushstream(lua_State *L, int fd, int issock);
void lng_open_stats(lua_State *L);             /* go.stats */
void lng_open_base(lua_State *L);              /* load, loadfile, dofile, print, os.exit */
void lng_open_coroutine(lua_State *L);         /* coroutine.resume, wrap, ... for goroutines */
void lng_open_stdio(lua_State *L);             /* io.read, io.lines, io.write, file methods that park */
/* print's write of its line s[0..len) to stdout, then a flush: parked
   when stdout is a pipe or a socket that would make it wait (stdio.c).
   Use as `return lng_stdout_print(...)`. */
int lng_stdout_print(lua_State *L, const char *s, size_t len);
void lng_open_ioopen(lua_State *L);            /* io.open of FIFOs and terminals, whose calls park */
void lng_open_process(lua_State *L);           /* os.execute, io.popen that park; go.exec */

#endif
