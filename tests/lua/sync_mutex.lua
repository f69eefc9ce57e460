-- go.mutex(): mutual exclusion between goroutines on any workers, trylock,
-- unlock by another goroutine, identity when shared, and errors.
local function expect_err(sub, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error containing '" .. sub .. "'")
  err = tostring(err)
  assert(err:find(sub, 1, true), ("error %q does not contain %q"):format(err, sub))
  return err
end

-- mutual exclusion: the log of critical sections never shows two enters in a row
do
  local m = go.mutex()
  local N, K = 12, 6
  local log = chan(N * K * 2)          -- never full: sends never block
  local done = chan(N)
  for i = 1, N do
    go(function(id)
      for _ = 1, K do
        m:lock()
        log:send(id)
        for _ = 1, 3 do go.yield() end
        log:send(-id)
        m:unlock()
        go.yield()
      end
      done:send(true)
    end, i)
  end
  for _ = 1, N do done:recv() end
  assert(#log == N * K * 2, "every critical section was logged")
  local inside = nil
  for _ = 1, N * K * 2 do
    local v = log:recv()
    if v > 0 then
      assert(inside == nil, "goroutine " .. v .. " entered while " .. tostring(inside) .. " held the lock")
      inside = v
    else
      assert(inside == -v, "leave by a goroutine that was not inside")
      inside = nil
    end
  end
  assert(inside == nil)
  assert(m:trylock() == true, "unlocked after all the goroutines")
  m:unlock()
end

-- trylock
do
  local m = go.mutex()
  assert(m:trylock() == true)
  assert(m:trylock() == false)
  assert(m:trylock() == false)
  m:unlock()
  assert(m:trylock() == true)
  m:unlock()
  m:lock()
  assert(m:trylock() == false)
  m:unlock()
end

-- a lock handed over to a parked goroutine, and unlocked by another goroutine (as Go allows)
do
  local m = go.mutex()
  local got = chan(1)
  m:lock()
  go(function()
    m:lock()                 -- parks until main unlocks
    got:send("locked")
  end)
  for _ = 1, 5 do go.yield() end
  assert(#got == 0, "the goroutine got a locked mutex")
  m:unlock()
  assert(got:recv() == "locked")
  assert(m:trylock() == false, "the lock went to the waiting goroutine")
  local released = chan()
  go(function() m:unlock(); released:send(true) end)
  released:recv()
  m:lock()
  m:unlock()
end

-- identity: argument, upvalue, over a channel and back
do
  local m = go.mutex()
  local back = chan(4)
  go(function(arg)
    back:send(arg == m)
    back:send(rawequal(arg, m))
    back:send(arg)
  end, m)
  assert(back:recv() == true and back:recv() == true, "the same mutex in the goroutine")
  assert(rawequal(back:recv(), m), "the mutex comes back as the original")
  local t = { m, [m] = "key" }
  local echo = chan()
  go(function() echo:send(echo:recv()) end)
  echo:send(t)
  local c = echo:recv()
  assert(c ~= t and rawequal(c[1], m) and c[m] == "key")
  assert(m ~= go.mutex())
end

-- errors
do
  local m = go.mutex()
  local err = expect_err("sync: unlock of unlocked mutex", m.unlock, m)
  err = expect_err("sync: unlock of unlocked mutex", function() m:unlock() end)
  assert(err:match("sync_mutex%.lua:%d+: sync: unlock of unlocked mutex$"), "position in: " .. err)
  m:lock()
  m:unlock()
  expect_err("sync: unlock of unlocked mutex", function() m:unlock() end)
  expect_err("bad argument", m.lock, {})
  expect_err("mutex expected", m.unlock, 42)
  expect_err("bad argument", m.trylock, chan())
  expect_err("bad argument", m.lock, go.waitgroup())
  -- in a goroutine, raised there
  local res = chan(1)
  go(function()
    local ok, e = pcall(m.unlock, m)
    res:send(not ok and e:find("sync: unlock of unlocked mutex", 1, true) ~= nil)
  end)
  assert(res:recv() == true)
end

-- where Lua cannot suspend: a free mutex still locks, a held one raises
do
  local m = go.mutex()
  table.sort({ 3, 1, 2 }, function(a, b) m:lock(); m:unlock(); return a < b end)
  m:lock()
  local ok, err = pcall(table.sort, { 3, 1, 2 }, function(a, b) m:lock(); return a < b end)
  assert(not ok and err:find("cannot block", 1, true) and err:find("mutex:lock", 1, true), err)
  m:unlock()
end

-- a lock in a nested coroutine parks the whole goroutine
do
  local m = go.mutex()
  local out = chan(1)
  m:lock()
  go(function()
    local co = coroutine.wrap(function() m:lock(); coroutine.yield("in"); m:unlock(); return "out" end)
    local a = co()
    local b = co()
    out:send(a .. b)
  end)
  go.yield()
  m:unlock()
  assert(out:recv() == "inout")
end

-- __tostring, __name
do
  local m = go.mutex()
  assert(tostring(m):match("^mutex: 0?x?%x+$"), tostring(m))
  assert(getmetatable(m).__name == "mutex")
end
