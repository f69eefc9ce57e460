/*
 * The Lua file of io.popen (process.c), as stdio.c must recognise it: a
 * stock file (luaL_Stream, metatable LUA_FILEHANDLE, so io.type and every
 * method work) with the child's pid and a count of reads in flight on the
 * pool, which its close must not pull the FILE from under.
 */
#ifndef LNG_PFILE_H
#define LNG_PFILE_H

#include <sys/types.h>
#include <lauxlib.h>

typedef struct lng_pfile {
  luaL_Stream s;             /* first: the io library sees a plain stream */
  pid_t pid;
  int busy;                  /* reads or writes on the pool now (the shard's, no lock) */
  int writing;               /* mode "w" */
} lng_pfile;

/* The close function of such files (luaL_Stream.closef). */
int lng_pfile_close(lua_State *L);

static inline lng_pfile *lng_pfile_of(luaL_Stream *p) {
  return p->closef == lng_pfile_close ? (lng_pfile *)p : NULL;
}

#endif
