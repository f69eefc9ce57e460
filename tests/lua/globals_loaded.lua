-- package.loaded._G and require "_G" name the running goroutine's own
-- globals, as in plain Lua, although package.loaded is shared by all the
-- goroutines of a worker; _G._G == _G wherever plain Lua has it.
local modpath = (arg[0]:match("^(.*)[/\\]") or ".") .. "/mods/?.lua;"
local out = chan(100)

local function same(where, g)
  assert(rawequal(g, _G), where .. ": not the goroutine's _G")
  assert(rawequal(package.loaded._G, _G), where .. ": package.loaded._G ~= _G")
  assert(rawequal(require("_G"), _G), where .. ': require "_G" ~= _G')
  assert(rawequal(_G._G, _G), where .. ": _G._G ~= _G")
end

-- ---- the main goroutine ----
same("main", _G)
package.loaded._G.LOADED_MAIN = 1
assert(LOADED_MAIN == 1)

-- ---- spawned goroutines, many on each worker (package.loaded is shared) ----
local N = 40
local gate = chan()
for i = 1, N do
  go(function(k)
    MINE = k                                   -- globals touched first
    same("goroutine " .. k, _G)
    gate:recv()                                -- others run on this worker meanwhile
    same("goroutine " .. k .. " after blocking", _G)
    out:send(package.loaded._G.MINE == k and require("_G").LOADED_MAIN == nil)
  end, i)
end
gate:close()
for _ = 1, N do assert(out:recv() == true, "a goroutine saw another's globals") end
assert(MINE == nil)

-- ---- package.loaded._G before any other use of the globals ----
go(function()
  local g = package.loaded._G
  g.FIRST = "first"
  out:send(FIRST == "first" and rawequal(g, _G) and rawequal(g._G, g))
end)
assert(out:recv() == true)
go(function()
  local g = require("_G")
  out:send(rawequal(g, _G) and rawequal(g._G, _G))
end)
assert(out:recv() == true)
assert(FIRST == nil)

-- ---- a goroutine whose function names no global: its globals are made
-- when a received function asks through package.loaded ----
do
  local inbox = chan(2)
  go(function(ib, o)
    local f = ib:recv()
    local g1 = f()
    local h = ib:recv()
    o:send(h(g1))
  end, inbox, out)
  inbox:send(function() local g = package.loaded._G; g.LAZY_SET = 7; return g end)
  inbox:send(function(g1) return rawequal(g1, _G) and LAZY_SET == 7 and rawequal(require("_G"), g1) end)
  assert(out:recv() == true)
  assert(LAZY_SET == nil)
end

-- ---- module code (the base as _ENV) sees the caller's globals ----
local function check_module(where)
  -- package is the worker's: set the path wherever this runs
  if not package.path:find(modpath, 1, true) then package.path = modpath .. package.path end
  local probe = require("g_probe")
  local a, b, c = probe.views()
  assert(rawequal(a, _G) and rawequal(b, _G) and rawequal(c, _G), where .. ": module views")
  probe.set("VIA_MODULE", where)
  assert(VIA_MODULE == where, where .. ": module's _G[k] = v")
  probe.setraw("VIA_MODULE_RAW", where)
  assert(VIA_MODULE_RAW == where, where .. ": module's rawset(_G, k, v)")
end
check_module("main")
for i = 1, 8 do
  go(function(k)
    check_module("goroutine " .. k)
    out:send(VIA_MODULE == "goroutine " .. k)
  end, i)
end
for _ = 1, 8 do assert(out:recv() == true) end
assert(VIA_MODULE == "main" and VIA_MODULE_RAW == "main")

-- ---- _G as a plain variable: assigning it changes _G, not package.loaded._G ----
go(function()
  local g = _G
  _G = nil
  local ok = _G == nil and rawequal(package.loaded._G, g) and rawequal(require("_G"), g)
  _G = g
  out:send(ok and rawequal(_G._G, _G))
end)
assert(out:recv() == true)
go(function()
  local g = _G
  _G = 5
  out:send(_G == 5 and rawequal(package.loaded._G, g))
end)
assert(out:recv() == true)
assert(rawequal(_G._G, _G) and rawequal(package.loaded._G, _G))

-- ---- a goroutine whose globals are a plain table (metatable replaced) ----
go(function()
  setmetatable(_G, { __index = function(_, k) error("strict: " .. tostring(k), 2) end })
  out:send(rawequal(package.loaded._G, _G) and rawequal(_G._G, _G) and rawequal(require("_G"), _G))
end)
assert(out:recv() == true)
print("ok")
