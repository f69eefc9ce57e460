-- go.timer: t.c receives the time once; t:stop() says whether it stopped
-- a pending timer; t:reset(s) says whether it was pending, and arms it
-- again. go.afterfunc starts fn(...) as a goroutine when it fires, with
-- arguments copied as go() copies them. Timers travel by reference.
local t = go.timer(0.01)
local v = t.c:recv()
assert(type(v) == "number" and v <= go.now())
assert(t:stop() == false, "fired: nothing to stop")

t = go.timer(3600)
assert(t:stop() == true and t:stop() == false)
assert(#t.c == 0 and t.c == t.c)

-- a stopped timer never delivers
t = go.timer(0.01)
assert(t:stop())
local i = go.select(t.c, go.after(0.05))
assert(i == 2, "the stopped timer must not fire")

-- reset of a pending timer: true, and it fires once, at the new time
t = go.timer(3600)
assert(t:reset(0.01) == true)
assert(type(t.c:recv()) == "number")
-- reset of a fired timer: false, and it fires again
assert(t:reset(0.01) == false)
assert(type(t.c:recv()) == "number")
-- reset of a stopped one: false
assert(t:stop() == false)
t = go.timer(3600)
t:stop()
assert(t:reset(0) == false and type(t.c:recv()) == "number")

-- afterfunc: the function runs as a goroutine with copies of its arguments
local ch = chan()
local arg = { n = 1 }
local af = go.afterfunc(0.01, function(a, b) a.n = a.n + 1 ch:send(a.n + b) end, arg, 10)
arg.n = 100                                   -- copied at the call: no effect
assert(af.c == nil)
assert(ch:recv() == 12)
assert(af:reset(0.01) == false)               -- fired already; runs again
assert(ch:recv() == 12)
local never = go.afterfunc(0.01, function() ch:send("too late") end)
assert(never:stop() == true)
assert(go.select(ch, go.after(0.05)) == 2, "a stopped afterfunc must not run")
assert(never:reset(0.01) == false and ch:recv() == "too late")

-- timers travel by reference: another goroutine stops this one
t = go.timer(3600)
go(function(tt) ch:send(tt:stop()) end, t)
assert(ch:recv() == true and t:stop() == false)

-- many goroutines resetting one timer, then stopping it: one stop wins
t = go.timer(3600)
local wg, stops = go.waitgroup(), go.atomic()
wg:add(8)
for _ = 1, 8 do
  go(function()
    for _ = 1, 50 do assert(t:reset(3600) == true) end
    wg:done()
  end)
end
wg:wait()
wg:add(8)
for _ = 1, 8 do
  go(function()
    if t:stop() then stops:add(1) end
    wg:done()
  end)
end
wg:wait()
assert(stops:load() == 1, stops:load())
assert(t:stop() == false)

local ok, err = pcall(go.timer, -1)
assert(not ok and err:find("non-negative", 1, true), err)
ok, err = pcall(go.afterfunc, 1, 2)
assert(not ok and err:find("function expected", 1, true), err)
ok, err = pcall(go.afterfunc, 1, function() end, coroutine.create(print))
assert(not ok and err:find("cannot copy thread", 1, true), err)
