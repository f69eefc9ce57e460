/*
 * The Lua file of io.popen (process.c), and of io.open for a FIFO or a
 * terminal (ioopen.c: a "waiting file", pid 0), as stdio.c must recognise
 * it: a stock file (luaL_Stream, metatable LUA_FILEHANDLE, so io.type and
 * every method work) with the child's pid and a count of reads in flight
 * on the pool, which its close must not pull the FILE from under.
 */
#ifndef LNG_PFILE_H
#define LNG_PFILE_H

#include <sys/types.h>
#include <lauxlib.h>

typedef struct lng_pfile {
  luaL_Stream s;             /* first: the io library sees a plain stream */
  pid_t pid;                 /* 0: no child (a waiting file of io.open) */
  int busy;                  /* reads or writes on the pool now (the shard's, no lock) */
  int writing;               /* open for writing */
} lng_pfile;

/* The close function of such files (luaL_Stream.closef): a popen file
   waits for its child; a waiting file closes as Lua's files do. */
int lng_pfile_close(lua_State *L);

static inline lng_pfile *lng_pfile_of(luaL_Stream *p) {
  return p->closef == lng_pfile_close ? (lng_pfile *)p : NULL;
}

/* io.lines(name) of a FIFO or a terminal (ioopen.c): 0 with the file
   pushed; -1 when it is to be the stock io.lines. Raises liolib's error
   when the file cannot be opened. */
int lng_ioopen_lines(lua_State *L, const char *name);

#endif
