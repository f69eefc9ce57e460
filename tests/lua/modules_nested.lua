-- A value reachable from a module through string keys (mod.sub.f) crosses
-- by name: the receiver gets its worker's own module's value along the
-- same keys, not a copy. A function keeping state in an upvalue shows the
-- difference: a copy would count on its own. A C closure deep in a module
-- crosses too. A module gaining a field after it was loaded still works
-- where that field exists.
local M = require "tests.lua.mods.nested_mod"
local f, iter = M.sub.f, M.sub.deep.iter
local ch = chan(1)
for _ = 1, 10 do
  go(function()
    local mine = require "tests.lua.mods.nested_mod"
    ch:send(f == mine.sub.f and iter == mine.sub.deep.iter and f() == mine.calls())
  end)
  assert(ch:recv() == true)
end
-- on one worker every goroutine shares the module: ten calls counted once each
if go.workers() == 1 then assert(M.calls() == 10, M.calls()) end

-- a field added after the module loaded (the index is walked again when
-- the value would otherwise be refused). Only this worker's copy of the
-- module has it, so it is received here, through a buffered channel.
M.later = string.gmatch("x", "x")
ch:send({ M.later })
assert(rawequal(ch:recv()[1], M.later))

-- a field reassigned after the walk: the old value is no longer the
-- module's, so it is copied (a Lua function), not renamed
local old = M.calls
M.calls = function() return -1 end
go(function(g) ch:send(g ~= require("tests.lua.mods.nested_mod").calls and type(g)) end, old)
assert(ch:recv() == "function")
M.calls = old

-- a module value the receiver cannot load names the module: the value is
-- encoded while "ghost" is loaded here, then unloaded before it is received
package.loaded.ghost = { gone = { f = string.gmatch("a", "a") } }
local buf = chan(1)
buf:send(package.loaded.ghost.gone.f)
package.loaded.ghost = nil
local ok, err = pcall(buf.recv, buf)
assert(not ok and err:find("cannot receive 'ghost.gone.f': module 'ghost' cannot be loaded here", 1, true), err)
