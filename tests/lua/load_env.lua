-- load, loadfile and dofile without an explicit env use the calling
-- goroutine's globals; with an env they use that env.
local dir = arg[0]:match("^(.*)[/\\]") or "."
local probe = dir .. "/mods/env_probe.lua"
local back = chan()

LE_X = "main"
assert(load("return LE_X")() == "main")
assert(load("return _G")() == _G)

go(function()
  assert(load("return LE_X")() == nil, "load() in a goroutine saw main's global")
  LE_X = "child"
  assert(load("return LE_X")() == "child")
  load("LE_Y = 42")()
  assert(LE_Y == 42, "a global assigned by a loaded chunk is the goroutine's")
  assert(load("return _G")() == _G)
  assert(load("return go.id()")() == go.id(), "the API is visible in loaded chunks")

  -- explicit env
  local env = { LE_X = "env" }
  assert(load("return LE_X", "c", "t", env)() == "env")
  load("LE_Z = 1", "c", "t", env)()
  assert(env.LE_Z == 1 and LE_Z == nil)

  -- a binary chunk gets the goroutine's globals as its first upvalue
  local bin = string.dump(function() return LE_X end)
  assert(load(bin, "bin", "b")() == "child")

  -- a reader function that does not block is fine
  local parts, i = { "return ", "LE_X", " .. '!'" }, 0
  assert(load(function() i = i + 1; return parts[i] end)() == "child!")

  -- loadfile / dofile
  local f = assert(loadfile(probe))
  local r = f()
  assert(r.x == "child" and r.g == _G and r.id == go.id(), "loadfile uses the goroutine's globals")
  assert(ENV_PROBE_RAN == true)
  ENV_PROBE_RAN = nil
  r = dofile(probe)
  assert(r.x == "child" and r.g == _G and ENV_PROBE_RAN == true, "dofile uses the goroutine's globals")
  local penv = { LE_X = "penv", go = go }
  r = assert(loadfile(probe, "t", penv))()
  assert(r.x == "penv" and r.g == nil and penv.ENV_PROBE_RAN == true)
  back:send(true)
end)
assert(back:recv() == true)

assert(LE_X == "main" and LE_Y == nil and ENV_PROBE_RAN == nil, "a goroutine's loads leaked into main")
local r = dofile(probe)
assert(r.x == "main" and r.g == _G and r.id == 1 and ENV_PROBE_RAN == true)

-- many goroutines loading the same chunk text each get their own globals
local res = chan(100)
for i = 1, 100 do
  go(function(k)
    load("LE_K = ...")(k)
    go.yield()
    res:send(load("return LE_K")() == k)
  end, i)
end
for _ = 1, 100 do assert(res:recv() == true) end
