-- Sleepers whose timers are due run before a burst of goroutines spawned
-- meanwhile starts on their worker: a woken goroutine goes before those
-- not started yet (it holds a stack and usually frees something; they
-- cost nothing while they wait). S goroutines sleep 1 ms while main
-- computes past their deadline, then main spawns K goroutines and waits.
-- Every goroutine logs itself and its worker on one channel as it runs,
-- so the log is the order they ran in. Before, a worker started every
-- unstarted goroutine of its own first and looked at woken ones every 61st
-- pick: the last sleeper logged after about S * 60 of the burst on its
-- worker. (Other workers may run burst goroutines they stole while the
-- sleepers' worker is still busy with main: a started goroutine cannot
-- move, so only the sleeper's own worker is counted.)
local S, K = 20, 2000
local BOUND = K // 8

local log, ready = chan(S + K), chan(S)
for i = 1, S do
  go(function()
    ready:send(true)
    go.sleep(0.001)
    log:send({ -i, go.worker() })
  end)
end
for _ = 1, S do ready:recv() end
local t0 = go.now()
while go.now() - t0 < 0.005 do end         -- every sleeper is due now
for i = 1, K do go(function() log:send({ i, go.worker() }) end) end
local burst, woke, worst = {}, 0, 0
for _ = 1, S + K do
  local v = log:recv()
  local w = v[2]
  if v[1] > 0 then
    burst[w] = (burst[w] or 0) + 1
  else
    woke = woke + 1
    worst = math.max(worst, burst[w] or 0)
    if woke == S then break end
  end
end
assert(woke == S, "every sleeper woke")
assert(worst < BOUND, string.format("%d of the burst ran on a sleeper's worker before it, though it was due", worst))
