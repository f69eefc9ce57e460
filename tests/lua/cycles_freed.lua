-- Containers that hold themselves, or each other, in a cycle: a dict
-- whose value names the dict, a channel whose buffer holds the channel,
-- two channels in each other's buffers, a dict and a channel through a
-- record, a chain hanging off a cycle, a pending afterfunc whose function
-- names a channel that holds the timer. Reference counts alone never free
-- these; the runtime's end does (runtime/objtrack.h), which the leak
-- checkers verify: this script runs under LeakSanitizer (make test-asan)
-- and valgrind (make test-valgrind). Here it checks that the values are
-- what was stored, and that a container the program still holds through
-- another goroutine is not emptied before its time.
local d = go.dict()
d:set("self", d)
assert(d:get("self") == d)

local c = chan(1)
c:send(c)

local a, b = chan(1), chan(1)
a:send(b)
b:send(a)

local e, f = go.dict(), chan(2)
e:set("f", f)
f:send(e)
f:send({ m = go.mutex(), d = e, tags = { "x", "y" } })

local g, h = chan(1), go.dict()
h:set("g", g)
g:send(h)
local tail = chan(1)
h:set("tail", tail)
tail:send({ 1, 2, 3 })

local tc = chan(1)
local t = go.afterfunc(3600, function() tc:send("fired") end)
tc:send(t)
-- one that fires: its cycle is gone with its goroutine's end
local fc, fired = chan(1), chan()
local ft = go.afterfunc(0.01, function() fired:send(fc:recv() ~= nil) end)
fc:send(ft)
assert(fired:recv() == true)

-- a cycle whose members are still used: a goroutine drains one of them
local ring = chan(4)
ring:send(ring)
ring:send("last")
local done = chan()
go(function(r, dn)
  local self = r:recv()
  dn:send(self == r and r:recv() == "last")
end, ring, done)
assert(done:recv() == true)

-- what went in comes out
local got = f:recv()
assert(got == e and got:get("f") == f)
local rec = f:recv()
assert(rec.d == e and rec.tags[2] == "y")
f:send(e)   -- and back into the cycle, for the end to break
assert(c:recv() == c)
c:send(c)
