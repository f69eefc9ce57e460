/*
 * The one list of lungo's Lua libraries, as Lua's linit.c is for its own,
 * and lng_new, which hands it to the VM: vm/ opens every shard with it and
 * never names a binding, so new bindings are added here and nowhere else.
 */
#include "bindings.h"
#include "../vm/vm.h"

void lng_openlibs(lua_State *L) {
  /* go first: the others add their functions to its table */
  lng_open_go(L);
  lng_open_chan(L);
  lng_open_sync(L);
  lng_open_select(L);
  lng_open_time(L);
  lng_open_shared(L);
  lng_open_timer(L);
  lng_open_net(L);
  lng_open_stats(L);
  lng_open_base(L);
  lng_open_coroutine(L);
  lng_open_stdio(L);
  lng_open_process(L);
  lng_open_ioopen(L);
}

lng_runtime *lng_new(const lng_config *cfg) {
  return lng_vm_new(cfg, lng_openlibs);
}
