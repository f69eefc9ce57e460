-- go.mutex() lets a running goroutine barge, as Go's does: unlock frees
-- the lock and wakes the first waiter to try for it, so the unlocker may
-- lock again at once instead of switching to the waiter every time (a
-- lock convoy); a waiter that keeps losing for over 1 ms turns the mutex
-- to hand-off, so it cannot starve.

-- A waiter is parked on the lock; its holder unlocks and takes it back
-- without a switch. Before, unlock handed the lock to the waiter and the
-- trylock failed.
do
  local m = go.mutex()
  local ready, got = chan(), chan(1)
  m:lock()
  go(function()
    ready:send(true)
    m:lock()
    got:send(go.id())
    m:unlock()
  end)
  ready:recv()
  -- let it reach lock() and park (were it not parked yet, trylock would
  -- succeed anyway: the test could only pass wrongly, never fail wrongly)
  go.sleep(0.01)
  m:unlock()
  assert(m:trylock(), "the unlocker could not lock again: the lock was handed to the waiter")
  assert(#got == 0, "the waiter holds the lock too")
  m:unlock()
  assert(type(got:recv()) == "number", "the woken waiter locked once the lock was free")
end

-- Mutual exclusion holds with barging: every section is entered and left
-- by one goroutine at a time, and each goroutine's sections all happen.
do
  local m = go.mutex()
  local N, K = 8, 2000
  local log = chan(N * K * 2)
  local wg = go.waitgroup()
  wg:add(N)
  for i = 1, N do
    go(function()
      for k = 1, K do
        m:lock()
        log:send(i)
        if k % 97 == 0 then go.yield() end
        log:send(-i)
        m:unlock()
      end
      wg:done()
    end)
  end
  wg:wait()
  local inside, count = nil, {}
  for _ = 1, N * K * 2 do
    local v = log:recv()
    if v > 0 then
      assert(inside == nil, "goroutine " .. v .. " entered while " .. tostring(inside) .. " held the lock")
      inside, count[v] = v, (count[v] or 0) + 1
    else
      assert(inside == -v, "leave by a goroutine that was not inside")
      inside = nil
    end
  end
  for i = 1, N do assert(count[i] == K, "goroutine " .. i .. " locked " .. tostring(count[i]) .. " times") end
end

-- No starvation: a goroutine relocking in a tight loop does not keep a
-- waiter out for good. The loop stops when the waiter has had the lock;
-- 20 million pairs (seconds) without it means the waiter starved.
do
  local m = go.mutex()
  local had, started = chan(1), chan()
  go(function()
    started:send(true)
    m:lock()
    had:send(true)
    m:unlock()
  end)
  m:lock()
  started:recv()
  local pairs_done = 0
  while #had == 0 do
    m:unlock()
    m:lock()
    pairs_done = pairs_done + 1
    assert(pairs_done < 20e6, "the waiter never got the lock")
  end
  m:unlock()
  assert(had:recv())
end
