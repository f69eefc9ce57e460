-- go.stats(): its fields and their types, the live count going up with
-- parked goroutines and back down, spawned never going back, per_worker
-- summing to at most the live count, memory growing with parked goroutines.

local function isint(v) return math.type(v) == "integer" end

local function sum(t)
  local s = 0
  for _, v in ipairs(t) do s = s + v end
  return s
end

local function check_shape(s)
  assert(type(s) == "table")
  assert(isint(s.goroutines) and s.goroutines >= 1, "goroutines: " .. tostring(s.goroutines))
  assert(isint(s.spawned) and s.spawned >= s.goroutines, "spawned: " .. tostring(s.spawned))
  assert(isint(s.workers) and s.workers == go.workers(), "workers")
  assert(isint(s.memory) and s.memory > 0, "memory: " .. tostring(s.memory))
  assert(type(s.per_worker) == "table" and #s.per_worker == s.workers, "per_worker length")
  for i = 1, s.workers do
    local c = s.per_worker[i]
    assert(isint(c) and c >= 0, "per_worker[" .. i .. "]")
  end
  return s
end

-- Waits until the live count is `n` (goroutines finish asynchronously).
local function wait_live(n)
  local t0 = go.now()
  while go.stats().goroutines ~= n do
    assert(go.now() - t0 < 20, ("live count stuck at %d, waiting for %d"):format(go.stats().goroutines, n))
    go.sleep(0.001)
  end
end

-- ---- fields, at rest ----
local s0 = check_shape(go.stats())
assert(s0.goroutines == 1, "only main alive at the start: " .. s0.goroutines)
assert(s0.goroutines == go.count())
assert(s0.spawned >= 1)
assert(sum(s0.per_worker) <= s0.goroutines)
assert(go.stats() ~= go.stats(), "a fresh table each call")

-- ---- the live count follows parked goroutines ----
do
  local N = 2000
  local base = go.stats()
  local gate = chan()
  local started = chan(N)
  for _ = 1, N do
    go(function()
      started:send(true)
      gate:recv()
    end)
  end
  -- counted from the spawn on, started or not
  local s1 = check_shape(go.stats())
  assert(s1.goroutines == base.goroutines + N, ("after spawning %d: %d"):format(N, s1.goroutines))
  assert(s1.spawned == base.spawned + N, "spawned counts each go() once")
  assert(sum(s1.per_worker) <= s1.goroutines)

  for _ = 1, N do started:recv() end
  -- every one started and parked
  local s2 = check_shape(go.stats())
  assert(s2.goroutines == base.goroutines + N and s2.goroutines == go.count())
  assert(s2.spawned == s1.spawned)
  local pw = sum(s2.per_worker)
  assert(pw <= s2.goroutines, ("per_worker sums to %d > %d"):format(pw, s2.goroutines))
  assert(pw >= N, ("all %d started goroutines are on some worker: %d"):format(N, pw))
  assert(s2.memory > base.memory + N * 200,
    ("memory grew only from %d to %d with %d parked goroutines"):format(base.memory, s2.memory, N))

  -- released: back down to where it was
  gate:close()
  wait_live(base.goroutines)
  local s3 = check_shape(go.stats())
  assert(s3.goroutines == base.goroutines and go.count() == base.goroutines)
  assert(s3.spawned == s2.spawned, "spawned never goes down")
  assert(sum(s3.per_worker) <= s3.goroutines)
end

-- ---- spawned is monotonic, read from every worker ----
do
  local last = go.stats().spawned
  local res = chan(100)
  for round = 1, 5 do
    for _ = 1, 20 do
      go(function()
        local s = go.stats()
        res:send({spawned = s.spawned, workers = s.workers, n = #s.per_worker})
      end)
    end
    local now = go.stats().spawned
    assert(now == last + 20, ("round %d: spawned %d -> %d"):format(round, last, now))
    for _ = 1, 20 do
      local r = res:recv()
      assert(r.spawned >= last + 1 and r.spawned <= now, "seen from a goroutine")
      assert(r.workers == go.workers() and r.n == r.workers)
    end
    last = now
  end
  wait_live(1)
end

-- ---- goroutines that finish on their own ----
do
  local base = go.stats()
  local done = chan(300)
  for i = 1, 300 do go(function() done:send(i) end) end
  local total = 0
  for _ = 1, 300 do total = total + done:recv() end
  assert(total == 300 * 301 // 2)
  wait_live(base.goroutines)
  local s = go.stats()
  assert(s.spawned == base.spawned + 300)
  assert(sum(s.per_worker) <= s.goroutines)
end
