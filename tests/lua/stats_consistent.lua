-- go.stats() read while goroutines start and finish on every worker: each
-- reading must have sum(per_worker) <= goroutines, and every figure >= 0.
-- (With one worker nothing changes while the reader runs; the 2- and
-- 4-worker runs are the ones that hammer. Reading the per-worker counts
-- and then the live count, as go.stats did before lng_sched_stats, fails
-- here within the second on 2 and 4 workers: a goroutine counted on its
-- worker could end before the live count was read.)
local W = go.workers()
local SECONDS = W == 1 and 0.1 or 1.0

local stop = chan()
local done = chan(16)
-- Churners: each starts a batch of goroutines that park, waits until all
-- have started, then releases them to end together, over and over. While
-- a batch ends nothing waits to start (a goroutine waiting to start counts
-- in `goroutines` but in no per_worker entry, which would leave slack),
-- and ends come in quick succession on every worker.
local NCHURN = W
local K = 64
for _ = 1, NCHURN do
  go(function()
    local spawned = 0
    local started = chan(K)
    while go.select(stop, go.default) ~= 1 do
      local gate, wg = chan(), go.waitgroup()
      wg:add(K)
      for _ = 1, K do
        go(function(s, g, w) s:send(true); g:recv(); w:done() end, started, gate, wg)
      end
      for _ = 1, K do started:recv() end
      gate:close()
      wg:wait()
      spawned = spawned + K
    end
    done:send(spawned)
  end)
end

local function sum(t)
  local s = 0
  for _, v in ipairs(t) do
    assert(math.type(v) == "integer" and v >= 0, "per_worker entry " .. tostring(v))
    s = s + v
  end
  return s
end

-- Readers: one per worker (idle workers take them over), main included.
local function read_for(seconds)
  local t0, reads = go.now(), 0
  while go.now() - t0 < seconds do
    for _ = 1, 100 do
      local s = go.stats()
      local pw = sum(s.per_worker)
      reads = reads + 1
      if pw > s.goroutines then
        error(("reading %d: per_worker sums to %d > goroutines %d {%s}"):format(
          reads, pw, s.goroutines, table.concat(s.per_worker, ", ")))
      end
      assert(s.goroutines >= 1 and s.spawned >= s.goroutines)
    end
    go.yield()         -- lets a churner sharing this worker run
  end
  return reads
end
local readers = chan(W)
for _ = 2, W do go(function() readers:send(read_for(SECONDS)) end) end
local reads = read_for(SECONDS)
for _ = 2, W do reads = reads + readers:recv() end
stop:close()
local total = 0
for _ = 1, NCHURN do total = total + done:recv() end
assert(total > 0 and reads > 0, "nothing was started or read")
