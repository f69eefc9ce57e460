-- A burst of spawned goroutines is shared out among idle workers before
-- they start: a pool whose goroutines park on their jobs channel at once
-- would otherwise start, and stay, on the spawner's worker (a started
-- goroutine cannot move). 16 goroutines report their worker and park;
-- every worker must hold some. Before, all 16 started on one worker
-- within microseconds, before any idle worker's steal (which waits 50 us).
-- The second pool is spawned slowly (work between spawns, as on a loaded
-- machine or under a sanitizer): idle workers steal each goroutine as it
-- appears, and before stealing stopped at an even share they took all 16,
-- leaving the spawner's worker none.
local N = 16

local function pool(gap)
  local jobs, rep = chan(), chan(N)
  for _ = 1, N do
    go(function()
      rep:send(go.worker())
      jobs:recv()
    end)
    if gap > 0 then
      local t = go.now() + gap
      while go.now() < t do end
    end
  end
  local per = {}
  for _ = 1, N do
    local w = rep:recv()
    per[w] = (per[w] or 0) + 1
  end
  jobs:close()
  local shown, holding = {}, 0
  for w = 1, go.workers() do
    shown[w] = tostring(per[w] or 0)
    if per[w] then holding = holding + 1 end
  end
  local function check(ok, what)
    assert(ok, string.format("pool of %d (spawned %s) on %d workers placed %s (main on %d): %s",
      N, gap > 0 and "slowly" or "at once", go.workers(), table.concat(shown, "/"), go.worker(), what))
  end
  if gap == 0 then
    for w = 1, go.workers() do check(per[w], "worker " .. w .. " got none") end
  else
    -- Which idle worker steals when depends on the OS; that the spawner's
    -- worker keeps some and that no worker takes them all does not.
    check(per[go.worker()], "the spawner's worker got none")
    check(go.workers() == 1 or holding > 1, "one worker got them all")
  end
end

pool(0)
-- (the first pool's goroutines end first: they still count where they live)
while go.count() > 1 do go.sleep(0.001) end
pool(0.0005)
