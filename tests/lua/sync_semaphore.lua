-- go.semaphore(n): at most n holders at once, FIFO hand-over, try, errors.
local function expect_err(sub, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error containing '" .. sub .. "'")
  err = tostring(err)
  assert(err:find(sub, 1, true), ("error %q does not contain %q"):format(err, sub))
  return err
end

-- bounded parallelism: the log never shows more than 3 inside
do
  local LIMIT, N, K = 3, 12, 4
  local s = go.semaphore(LIMIT)
  local log = chan(N * K * 2)
  local wg = go.waitgroup()
  wg:add(N)
  for i = 1, N do
    go(function()
      for _ = 1, K do
        s:acquire()
        log:send(1)
        for _ = 1, 3 do go.yield() end
        log:send(-1)
        s:release()
      end
      wg:done()
    end)
  end
  wg:wait()
  assert(#log == N * K * 2)
  local inside, most = 0, 0
  for _ = 1, N * K * 2 do
    inside = inside + log:recv()
    assert(inside >= 0 and inside <= LIMIT, "holders at once: " .. inside)
    if inside > most then most = inside end
  end
  assert(inside == 0 and most >= 1)
  -- every unit is back
  for _ = 1, LIMIT do assert(s:tryacquire() == true) end
  assert(s:tryacquire() == false)
  for _ = 1, LIMIT do s:release() end
end

-- a semaphore of 1 is a lock
do
  local s = go.semaphore(1)
  local log = chan(40)
  local wg = go.waitgroup()
  for i = 1, 10 do
    wg:add(1)
    go(function()
      s:acquire(); log:send(i); go.yield(); log:send(-i); s:release()
      wg:done()
    end)
  end
  wg:wait()
  for _ = 1, 10 do
    local a, b = log:recv(), log:recv()
    assert(a > 0 and b == -a, "two holders of a semaphore(1)")
  end
end

-- tryacquire, and a unit handed over to a parked goroutine
do
  local s = go.semaphore(2)
  assert(s:tryacquire() == true)
  assert(s:tryacquire() == true)
  assert(s:tryacquire() == false)
  s:release()
  assert(s:tryacquire() == true)
  local got = chan(1)
  go(function() s:acquire(); got:send(true) end)
  for _ = 1, 5 do go.yield() end
  assert(#got == 0, "acquired with no unit free")
  s:release()
  assert(got:recv() == true)
  assert(s:tryacquire() == false, "the unit went to the waiting goroutine")
  s:release()
  s:release()
  expect_err("sync: release of unacquired semaphore", s.release, s)
end

-- identity
do
  local s = go.semaphore(5)
  local back = chan(2)
  go(function(a) back:send(a == s and rawequal(a, s)); back:send(a) end, s)
  assert(back:recv() == true)
  assert(rawequal(back:recv(), s))
  go(function() back:send(s) end)
  assert(rawequal(back:recv(), s), "as an upvalue")
end

-- errors
do
  local s = go.semaphore(1)
  local err = expect_err("sync: release of unacquired semaphore", function() s:release() end)
  assert(err:match("sync_semaphore%.lua:%d+: sync: release of unacquired semaphore$"), "position in: " .. err)
  s:acquire()
  s:release()
  expect_err("sync: release of unacquired semaphore", s.release, s)
  expect_err("bad argument", go.semaphore, 0)
  expect_err("bad argument", go.semaphore, -2)
  expect_err("bad argument", go.semaphore)
  expect_err("bad argument", go.semaphore, "x")
  expect_err("bad argument", go.semaphore, 2.5)
  expect_err("semaphore expected", s.acquire, go.mutex())
  expect_err("bad argument", s.tryacquire, nil)
  s:acquire()
  local ok, e = pcall(table.sort, { 3, 1, 2 }, function(a, b) s:acquire(); return a < b end)
  assert(not ok and e:find("cannot block", 1, true) and e:find("semaphore:acquire", 1, true), e)
  s:release()
end

do
  local s = go.semaphore(1)
  assert(tostring(s):match("^semaphore: "), tostring(s))
  assert(getmetatable(s).__name == "semaphore")
end
