-- Sync objects under contention. Goroutines share no memory, so each
-- object guards tokens in a channel: a mutex guards one token, a
-- semaphore(k) a pool of k, and whoever holds the lock must find a token
-- without waiting (a non-blocking receive); two holders at once would find
-- the pool empty. Waitgroups with many waiters and adders check that wait
-- returns only once every done was counted. arg[1] = workers, arg[2] = seed.
local SEED, rng, fail = dofile("tests/stress/lib/seeded.lua")(arg)

-- take a token at once, or fail: the lock is not exclusive enough
local function take(pool, what)
  local i, v = go.select(pool, go.default)
  if i ~= 1 then fail("%s: no token free while holding the lock", what) end
  return v
end

-- ---- mutex: lock / trylock, a counter carried by the token ----
local function mutex_round(seed, N, K)
  local m, pool = go.mutex(), chan(1)
  pool:send(0)
  local wg = go.waitgroup()
  wg:add(N)
  for g = 1, N do
    go(function()
      local r = rng(seed * 31 + g)
      for _ = 1, K do
        if r(4) == 1 then
          while not m:trylock() do go.yield() end
        else
          m:lock()
        end
        local v = take(pool, "mutex")
        for _ = 1, r(3) - 1 do go.yield() end
        pool:send(v + 1)
        m:unlock()
        if r(3) == 1 then go.yield() end
      end
      wg:done()
    end)
  end
  wg:wait()
  local v = take(pool, "mutex at the end")
  if v ~= N * K then fail("mutex counter %d, expected %d", v, N * K) end
end

-- ---- mutex unlocked by another goroutine than the one that locked it ----
local function handoff_round(N)
  local m, turn, done = go.mutex(), chan(), chan(N)
  m:lock()
  for g = 1, N do
    go(function()
      m:lock()               -- released by the next goroutine's turn
      turn:send(g)
      done:send(true)
    end)
  end
  local seen = {}
  for _ = 1, N do
    m:unlock()               -- hands the lock to one waiter...
    local g = turn:recv()    -- ...which tells who it is and leaves it locked
    if seen[g] then fail("goroutine %d got the mutex twice", g) end
    seen[g] = true
  end
  for _ = 1, N do done:recv() end
  m:unlock()
  if not m:trylock() then fail("mutex still locked after the hand-offs") end
  m:unlock()
end

-- ---- semaphore(k): at most k holders ----
local function semaphore_round(seed, k, N, K)
  local sem, pool = go.semaphore(k), chan(k)
  for t = 1, k do pool:send(t) end
  local wg = go.waitgroup()
  wg:add(N)
  for g = 1, N do
    go(function()
      local r = rng(seed * 17 + g)
      for _ = 1, K do
        if r(4) == 1 then
          while not sem:tryacquire() do go.yield() end
        else
          sem:acquire()
        end
        local t = take(pool, "semaphore(" .. k .. ")")
        for _ = 1, r(3) - 1 do go.yield() end
        pool:send(t)
        sem:release()
      end
      wg:done()
    end)
  end
  wg:wait()
  local sum = 0
  for _ = 1, k do sum = sum + take(pool, "semaphore at the end") end
  if sum ~= k * (k + 1) // 2 then fail("semaphore tokens damaged: sum %d", sum) end
  for _ = 1, k do
    if not sem:tryacquire() then fail("semaphore(%d) lost a permit", k) end
  end
  if sem:tryacquire() then fail("semaphore(%d) has a permit too many", k) end
end

-- ---- waitgroup: many workers, many waiters, adds from several places ----
local function waitgroup_round(seed, NW, NT)
  local wg, finished, woke = go.waitgroup(), chan(NT), chan(NW)
  local r = rng(seed)
  local added = 0
  local spawners = go.waitgroup()
  -- adds happen before the matching goroutine starts, from several spawners
  assert(NT % 4 == 0)
  local per = NT // 4
  wg:add(NT)
  for s = 1, 4 do
    spawners:add(1)
    go(function()
      for t = 1, per do
        go(function(y)
          for _ = 1, y do go.yield() end
          finished:send(true)
          wg:done()
        end, (s + t) % 3)
      end
      spawners:done()
    end)
  end
  added = per * 4
  for w = 1, NW do
    go(function()
      wg:wait()
      -- every done comes after its send: all sends are in the buffer
      woke:send(#finished)
    end)
  end
  for _ = 1, r(3) do go.yield() end
  wg:wait()
  if #finished ~= added then fail("wait returned with %d of %d finished", #finished, added) end
  for _ = 1, NW do
    local n = woke:recv()
    if n ~= added then fail("a waiter woke with %d of %d finished", n, added) end
  end
  spawners:wait()
  if wg:count() ~= 0 then fail("waitgroup count %d after all done", wg:count()) end
end

for k = 1, 15 do
  local seed = SEED * 100 + k
  mutex_round(seed, 40, 60)
  handoff_round(60)
  semaphore_round(seed, 1 + k % 4, 40, 40)
  waitgroup_round(seed, 50, 400)
end
