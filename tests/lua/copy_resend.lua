-- Functions decoded in a goroutine and sent on from there: the sender
-- finds their code where it decoded them (fcache.c: the front table's
-- slots, a few dozen, shared by every function that passes) instead of
-- dumping them again. Each copy must still run its own code and carry its
-- upvalues as they are when it is sent, however many functions pass at
-- once (slots taken over by others), and whatever worker it lands on.

-- A function passed along a chain of goroutines, each of which calls it
-- (changing its upvalue) before sending it on; also go()'s own function
-- (hop, which names a global) is sent on by each goroutine it starts.
local function hop(f, n, out)
  f()
  if n == 0 then out:send(f()) return end
  go(hop, f, n - 1, out)
end

local N, HOPS = 200, 3
local out = chan(N)
for i = 1, N do
  -- a function of its own code each (the constant), with an upvalue
  local f = load(("local u = 0 return function() u = u + 1 return u * 1000 + %d end"):format(i))()
  go(hop, f, HOPS, out)
end
local got = {}
for _ = 1, N do
  local v = out:recv()
  got[v % 1000] = v // 1000
end
for i = 1, N do
  -- called once per hop (HOPS + 1 goroutines), then once more for the answer
  assert(got[i] == HOPS + 2, ("function %d: %s calls"):format(i, tostring(got[i])))
end

-- The same closure sent on twice from one goroutine: two copies, each
-- with the upvalue as it was at its own send.
local function twice(f, out)
  go(function(g, o) o:send(g()) end, f, out)
  f()
  go(function(g, o) o:send(g()) end, f, out)
end
local c = chan(2)
local n = 0
go(twice, function() n = n + 1 return n end, c)
local a, b = c:recv(), c:recv()
assert(math.min(a, b) == 1 and math.max(a, b) == 2, a .. " " .. b)

-- Functions without upvalues decoded again and again (one shared copy
-- per worker) and sent on: still their own code.
local function relay(f, k, o)
  if k == 0 then o:send(f(k)) return end
  go(relay, f, k - 1, o)
end
local r = chan(64)
for i = 1, 64 do
  go(relay, load(("return function(x) return x + %d end"):format(i))(), 4, r)
end
local sum = 0
for _ = 1, 64 do sum = sum + r:recv() end
assert(sum == 64 * 65 // 2, sum)
