-- go() and the go.* introspection functions: ids, go.count(), go.worker(),
-- go.workers(), argument passing, spawning from goroutines, bad arguments,
-- and the `arg` table / `...` of the main chunk.
local script_arg = ...

local function wait_count(n)
  local spins = 0
  while go.count() ~= n do
    spins = spins + 1
    assert(spins < 10000000, ("go.count() stuck at %d, expected %d"):format(go.count(), n))
    go.yield()
  end
end

-- arg and ... as lua.c builds them (the harness passes the worker count as arg[1])
assert(type(arg) == "table", "arg must be a table in the main goroutine")
assert(type(arg[0]) == "string" and arg[0]:find("go_api.lua", 1, true), "arg[0] is the script path")
assert(script_arg == arg[1], "... holds the script arguments")

assert(go.id() == 1, "the main chunk is goroutine 1")
assert(math.type(go.id()) == "integer")
local n = go.workers()
assert(math.type(n) == "integer" and n >= 1, "go.workers() is a positive integer")
if arg[1] then
  assert(n == tonumber(arg[1]), ("go.workers() = %d, the runtime was created with %s"):format(n, arg[1]))
end
local w = go.worker()
assert(math.type(w) == "integer" and w >= 1 and w <= n, "go.worker() in 1..go.workers()")
assert(go.count() == 1, "only the main goroutine is alive at start, go.count() = " .. go.count())
assert(chan ~= nil and go.chan ~= nil, "chan and go.chan exist")

-- ids: integers, unique, not 1, equal to go.id() inside the goroutine
local res = chan(100)
local ids = {}
for i = 1, 20 do
  local id = go(function(k)
    res:send({ k = k, id = go.id(), worker = go.worker(), workers = go.workers(), count = go.count() })
  end, i)
  assert(math.type(id) == "integer", "go() returns an integer id")
  assert(id ~= 1 and ids[id] == nil, "goroutine ids are unique and not 1")
  ids[id] = i
end
for _ = 1, 20 do
  local r = res:recv()
  assert(ids[r.id] == r.k, "go.id() inside the goroutine equals what go() returned")
  assert(math.type(r.worker) == "integer" and r.worker >= 1 and r.worker <= n, "go.worker() in range")
  assert(r.workers == n, "go.workers() is the same in every goroutine")
  assert(r.count >= 2, "go.count() in a goroutine counts it and main, got " .. r.count)
end
wait_count(1)

-- go.count() with parked goroutines: they cannot finish, so the count is exact
local gate = chan()
local finished = chan(10)
for _ = 1, 10 do
  go(function()
    local v, ok = gate:recv()
    finished:send(v == nil and ok == false)
  end)
end
assert(go.count() == 11, "10 parked goroutines + main, go.count() = " .. go.count())
gate:close()
for _ = 1, 10 do assert(finished:recv() == true, "closed gate gives nil, false") end
wait_count(1)

-- arguments: nils in the middle and at the end are kept, and the count too
local args = chan(1)
go(function(...) args:send(table.pack(...)) end, 1, nil, "x", nil)
local p = args:recv()
assert(p.n == 4 and p[1] == 1 and p[2] == nil and p[3] == "x" and p[4] == nil, "go() passes every argument")
go(function(...) args:send(select("#", ...)) end)
assert(args:recv() == 0, "no arguments")
go(function(a, b, c) args:send({ a, b, c }) end, 2.5, true, "s")
local t = args:recv()
assert(math.type(t[1]) == "float" and t[1] == 2.5 and t[2] == true and t[3] == "s")

-- goroutines spawning goroutines: a binary tree of 511 goroutines; `tree`
-- is a recursive local function, so its copy must refer to itself
local function tree(depth, out)
  if depth == 0 then out:send(1) return end
  local sub = chan()
  go(tree, depth - 1, sub)
  go(tree, depth - 1, sub)
  out:send(sub:recv() + sub:recv())
end
local top = chan()
go(tree, 8, top)
assert(top:recv() == 256, "every leaf of the spawn tree reported")

-- C functions without upvalues run as goroutines
assert(math.type(go(math.max, 1, 2)) == "integer")
assert(math.type(go(string.rep, "x", 10)) == "integer")
assert(math.type(go(select, "#")) == "integer")
wait_count(1)

-- go() with something that is not a function
for _, bad in ipairs({ 42, "print", {}, true }) do
  local before = go.count()
  local ok, err = pcall(go, bad)
  assert(not ok and tostring(err):find("bad argument", 1, true), "go(" .. tostring(bad) .. "): " .. tostring(err))
  assert(go.count() == before, "nothing spawned for a bad argument")
end
do
  local ok, err = pcall(go)
  assert(not ok and tostring(err):find("bad argument", 1, true), "go(): " .. tostring(err))
end

-- an error caught inside a goroutine does not end the program
go(function()
  local ok, e = pcall(error, "caught inside")
  res:send(ok == false and e == "caught inside")
end)
assert(res:recv() == true)

-- the main chunk returns while these still run; they run to completion
local relay = chan()
go(function()
  for _ = 1, 100 do go.yield() end
  relay:send("late")
end)
go(function()
  assert(relay:recv() == "late")
end)
