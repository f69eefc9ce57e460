-- Goroutines that compute without ever blocking or yielding do not keep
-- the others from running: the runtime preempts them (every worker gets
-- one more spinner than it can hold, the main goroutine's included).
local stop = chan()
local spinners = go.workers() + 1
local spun = chan(spinners)
local started = chan(spinners)
for _ = 1, spinners do
  go(function(st, out, on)
    on:send(true)                 -- every spinner gets a turn, however they were spread
    local n = 0
    while go.select(st, go.default) == 2 do n = n + 1 end   -- polls, never blocks
    out:send(n)
  end, stop, spun, started)
end

-- short goroutines and the main goroutine itself still get their turn
local done = chan(10)
for i = 1, 5 do go(function(k) done:send(k) end, i) end
local sum = 0
for _ = 1, 5 do sum = sum + done:recv() end
assert(sum == 15, "short goroutines did not all run")
local t0 = go.now()
go.sleep(0.02)                  -- a timer fires although every worker is busy
assert(go.now() - t0 >= 0.019)

for _ = 1, spinners do started:recv() end
stop:close()
for _ = 1, spinners do assert(math.type(spun:recv()) == "integer") end   -- all of them stop
