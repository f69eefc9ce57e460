-- The basics a user tries first: spawn, communicate, wait for results,
-- many goroutines on any number of workers.
local results = chan()

-- spawn a few workers computing squares, collect them (order-independent)
for i = 1, 10 do
  go(function(x) results:send(x * x) end, i)
end
local sum = 0
for _ = 1, 10 do sum = sum + results:recv() end
assert(sum == 385, "sum of squares 1..10, got " .. sum)

-- a closure with upvalues as the goroutine body
local base, scale = 100, 3
local done = chan()
go(function() done:send(base + scale * 2) end)
assert(done:recv() == 106)

-- a worker pool: jobs in, results out
local jobs, out = chan(16), chan(16)
local NW, NJ = 8, 2000
for _ = 1, NW do
  go(function()
    for j in jobs:range() do out:send(j * 2) end
    out:send(false)           -- this worker is done
  end)
end
go(function()
  for j = 1, NJ do jobs:send(j) end
  jobs:close()
end)
local total, finished, count = 0, 0, 0
while finished < NW do
  local v = out:recv()
  if v == false then finished = finished + 1
  else total = total + v; count = count + 1 end
end
assert(count == NJ and total == NJ * (NJ + 1), "every job processed exactly once")

-- goroutines that only compute (no channel ops) still all run
local acks = chan(1000)
for i = 1, 1000 do
  go(function()
    local s = 0
    for k = 1, 100 do s = s + k end
    acks:send(s + i)
  end)
end
local acc = 0
for _ = 1, 1000 do acc = acc + acks:recv() end
assert(acc == 1000 * 5050 + 500500)
