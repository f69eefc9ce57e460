-- require works in every goroutine: standard modules, package.preload,
-- Lua files on package.path; a module is loaded at most once per worker.
local dir = arg[0]:match("^(.*)[/\\]") or "."
local modpath = dir .. "/mods/?.lua;"

local function setup_path()
  if not package.path:find(modpath, 1, true) then
    package.path = modpath .. package.path
  end
end

assert(require("string") == string and require("math").pi == math.pi)
setup_path()
local m = require("lungo_testmod")
assert(m.answer == 42 and m.double(21) == 42 and m.name == "lungo_testmod")
assert(require("lungo_testmod") == m and package.loaded.lungo_testmod == m)

local ok, err = pcall(require, "lungo_no_such_module_xyz")
assert(not ok and tostring(err):find("module 'lungo_no_such_module_xyz' not found", 1, true), tostring(err))

-- a module body may spawn goroutines
local sm = require("spawning_mod")
assert(sm.ch:recv() == "from module goroutine")

-- in many goroutines
local N = 60
local loads = chan(1000)      -- one entry per execution of the preload loader
local res = chan(N)
for i = 1, N do
  go(function(k)
    setup_path()
    local mm = require("lungo_testmod")
    assert(mm.answer == 42 and mm.double(k) == 2 * k and mm.name == "lungo_testmod")
    assert(require("lungo_testmod") == mm, "require returns the cached module")
    assert(require("string") == string)
    if not package.preload.lungo_pre then
      package.preload.lungo_pre = function(name)
        loads:send(go.worker())     -- buffered with room: does not block
        return { name = name }
      end
    end
    local p = require("lungo_pre")
    assert(p.name == "lungo_pre" and require("lungo_pre") == p)
    local okm, errm = pcall(require, "lungo_no_such_module_xyz")
    assert(not okm and tostring(errm):find("not found", 1, true))
    go.yield()
    res:send(k)
  end, i)
end
local sum = 0
for _ = 1, N do sum = sum + res:recv() end
assert(sum == N * (N + 1) // 2)

-- main never required lungo_pre itself; count the loader runs
local per_worker, total = {}, 0
while #loads > 0 do
  local w = loads:recv()
  assert(not per_worker[w], "lungo_pre was loaded twice on worker " .. w)
  per_worker[w] = true
  total = total + 1
end
assert(total >= 1 and total <= go.workers(),
  ("lungo_pre loaded %d times with %d workers"):format(total, go.workers()))
