-- An uncaught misuse error ends the program with its position.
-- expect-status: error
-- expect-message: fail_sync_unlock.lua:6: sync: unlock of unlocked mutex
local m = go.mutex()
m:lock(); m:unlock()
m:unlock()
