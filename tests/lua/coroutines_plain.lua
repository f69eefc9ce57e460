-- Plain Lua coroutine behaviour at the top level of every goroutine (it
-- looks like the main thread of a standalone interpreter) and inside
-- coroutines created in goroutines.
local function check_top(where)
  local co, ismain = coroutine.running()
  assert(type(co) == "thread", where .. ": coroutine.running() returns a thread")
  assert(ismain == true, where .. ": coroutine.running() must return true at the top level")
  assert(coroutine.isyieldable() == false, where .. ": coroutine.isyieldable() must be false at the top level")
  assert(coroutine.status(co) == "running", where)
  local ok, err = pcall(coroutine.yield, 1)
  assert(not ok and tostring(err):find("attempt to yield from outside a coroutine", 1, true),
    where .. ": coroutine.yield() at the top level: " .. tostring(err))
  ok, err = pcall(function() coroutine.yield() end)
  assert(not ok and tostring(err):find("attempt to yield from outside a coroutine", 1, true),
    where .. ": coroutine.yield() in a function: " .. tostring(err))
  local rok, rerr = coroutine.resume(co)
  assert(rok == false and tostring(rerr):find("cannot resume non-suspended coroutine", 1, true),
    where .. ": resuming the running thread: " .. tostring(rerr))
end

local function check_inside(where)
  local outer = coroutine.running()
  local co
  co = coroutine.create(function(a, b)
    local me, ismain = coroutine.running()
    assert(me == co and ismain == false, where .. ": running() inside a coroutine")
    assert(coroutine.isyieldable(), where .. ": yieldable inside a coroutine")
    assert(coroutine.status(outer) == "normal", where .. ": the goroutine's thread is normal while it resumes")
    assert(coroutine.status(co) == "running")
    local c = coroutine.yield(a + b)
    local ok, d = pcall(coroutine.yield, c * 2)      -- yield across pcall
    assert(ok)
    return d .. "!"
  end)
  assert(coroutine.status(co) == "suspended")
  local ok, v = coroutine.resume(co, 1, 2)
  assert(ok and v == 3, where)
  ok, v = coroutine.resume(co, 5)
  assert(ok and v == 10, where)
  ok, v = coroutine.resume(co, "end")
  assert(ok and v == "end!", where)
  assert(coroutine.status(co) == "dead")
  ok, v = coroutine.resume(co)
  assert(not ok and tostring(v):find("cannot resume dead coroutine", 1, true), where)

  -- generators with wrap
  local gen = coroutine.wrap(function() for i = 1, 5 do coroutine.yield(i) end end)
  local s = 0
  for i in gen do s = s + i end
  assert(s == 15, where)

  -- errors inside coroutines
  local bad = coroutine.create(function() error("inner boom") end)
  ok, v = coroutine.resume(bad)
  assert(not ok and tostring(v):find("inner boom", 1, true), where)
  local wbad = coroutine.wrap(function() error("wrapped boom") end)
  ok, v = pcall(wbad)
  assert(not ok and tostring(v):find("wrapped boom", 1, true), where)

  -- a wrapped function that calls itself: an error, as in plain Lua
  local again
  again = coroutine.wrap(function(x) return again(x) end)
  local ok, e = pcall(again, 1)
  assert(not ok and string.find(e, "cannot resume non%-suspended coroutine"), where .. ": " .. tostring(e))

  -- close
  local cl = coroutine.create(function() coroutine.yield() end)
  coroutine.resume(cl)
  assert(coroutine.close(cl) == true and coroutine.status(cl) == "dead", where)
end

check_top("main")
check_inside("main")
-- still true after the main goroutine has parked and been resumed
local c = chan()
go(function() c:send(1) end)
c:recv()
check_top("main after recv")

local done = chan()
for i = 1, 20 do
  go(function(k)
    local where = "goroutine " .. k
    check_top(where)
    check_inside(where)
    go.yield()
    check_top(where .. " after yield")
    c:send(k)
    check_top(where .. " after send")
    done:send(true)
  end, i)
end
for _ = 1, 20 do c:recv() end
for _ = 1, 20 do assert(done:recv() == true) end
