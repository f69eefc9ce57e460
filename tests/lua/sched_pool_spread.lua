-- A burst of spawned goroutines is shared out among idle workers before
-- they start: a pool whose goroutines park on their jobs channel at once
-- would otherwise start, and stay, on the spawner's worker (a started
-- goroutine cannot move). 16 goroutines report their worker and park;
-- every worker must hold some. Before, all 16 started on one worker
-- within microseconds, before any idle worker's steal (which waits 50 us).
local N = 16
local jobs, rep = chan(), chan(N)
for _ = 1, N do
  go(function()
    rep:send(go.worker())
    jobs:recv()
  end)
end
local per = {}
for _ = 1, N do
  local w = rep:recv()
  per[w] = (per[w] or 0) + 1
end
jobs:close()
local shown = {}
for w = 1, go.workers() do shown[w] = tostring(per[w] or 0) end
for w = 1, go.workers() do
  assert((per[w] or 0) > 0, string.format("pool of %d on %d workers placed %s (main on %d): worker %d got none",
    N, go.workers(), table.concat(shown, "/"), go.worker(), w))
end
