-- go.waitgroup(): wait returns only after every done, wakes every waiter,
-- can be reused, is shared by reference, and reports misuse.
local function expect_err(sub, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error containing '" .. sub .. "'")
  err = tostring(err)
  assert(err:find(sub, 1, true), ("error %q does not contain %q"):format(err, sub))
  return err
end

-- a zero counter: wait returns at once, even where Lua cannot suspend
do
  local wg = go.waitgroup()
  wg:wait()
  assert(wg:count() == 0)
  table.sort({ 2, 1 }, function(a, b) wg:wait(); return a < b end)
end

-- wait returns only after all done: every result is in before it returns
do
  local N = 20
  local wg = go.waitgroup()
  local results = chan(N)
  wg:add(N)
  for i = 1, N do
    go(function(id)
      for _ = 1, id % 4 do go.yield() end
      results:send(id * id)
      wg:done()
    end, i)
  end
  wg:wait()
  assert(#results == N, "wait returned before every goroutine was done")
  assert(wg:count() == 0)
  local sum = 0
  for _ = 1, N do sum = sum + results:recv() end
  assert(sum == N * (N + 1) * (2 * N + 1) / 6)
end

-- add one at a time, inside the spawning loop; done from nested goroutines
do
  local wg = go.waitgroup()
  local hits = chan(100)
  for i = 1, 10 do
    wg:add(1)
    go(function()
      for _ = 1, 3 do
        wg:add(1)
        go(function() go.yield(); hits:send(i); wg:done() end)
      end
      wg:done()
    end)
  end
  wg:wait()
  assert(#hits == 30, "nested work finished before wait returned")
end

-- several waiters, all woken by the last done, none before it
do
  local wg = go.waitgroup()
  local woke = chan(5)
  wg:add(2)
  for i = 1, 5 do
    go(function(w) w:wait(); woke:send(i) end, wg)
  end
  for _ = 1, 10 do go.yield() end
  assert(#woke == 0, "a waiter returned while the counter was 2")
  wg:done()
  for _ = 1, 10 do go.yield() end
  assert(#woke == 0, "a waiter returned while the counter was 1")
  wg:done()
  local seen = {}
  for _ = 1, 5 do seen[woke:recv()] = true end
  for i = 1, 5 do assert(seen[i], "waiter " .. i .. " was not woken") end
end

-- reuse after reaching zero; add(0) and negative adds that stay >= 0
do
  local wg = go.waitgroup()
  for round = 1, 3 do
    local out = chan(round)
    wg:add(round + 2)
    wg:add(-2)
    wg:add(0)
    assert(wg:count() == round)
    for _ = 1, round do go(function() out:send(true); wg:done() end) end
    wg:wait()
    assert(#out == round)
  end
end

-- wait inside pcall and a nested coroutine parks the goroutine
do
  local wg = go.waitgroup()
  local out = chan(1)
  wg:add(1)
  go(function()
    local ok = pcall(function()
      local co = coroutine.wrap(function() wg:wait(); return "waited" end)
      out:send(co())
    end)
    assert(ok)
  end)
  go.yield()
  wg:done()
  assert(out:recv() == "waited")
end

-- identity: argument, upvalue, over a channel and back
do
  local wg = go.waitgroup()
  local back = chan(3)
  go(function(a, t)
    back:send(a == wg and rawequal(a, wg) and t[1] == wg and t.k == a)
    back:send(a)
  end, wg, { wg, k = wg })
  assert(back:recv() == true, "the same waitgroup in the goroutine")
  assert(rawequal(back:recv(), wg))
  assert(wg ~= go.waitgroup())
end

-- errors: exact messages with a position, counter unchanged
do
  local wg = go.waitgroup()
  local err = expect_err("sync: negative waitgroup counter", function() wg:done() end)
  assert(err:match("sync_waitgroup%.lua:%d+: sync: negative waitgroup counter$"), "position in: " .. err)
  assert(wg:count() == 0)
  wg:add(2)
  expect_err("sync: negative waitgroup counter", wg.add, wg, -3)
  assert(wg:count() == 2, "a failed add changed the counter")
  wg:add(-2)
  expect_err("sync: negative waitgroup counter", wg.done, wg)
  wg:add(math.maxinteger)
  expect_err("sync: waitgroup counter overflow", wg.add, wg, 1)
  wg:add(-math.maxinteger)
  assert(wg:count() == 0)
  expect_err("bad argument", wg.add, wg, "x")
  expect_err("bad argument", wg.add, wg, 1.5)
  expect_err("bad argument", wg.add, wg)
  expect_err("bad argument", wg.wait, {})
  expect_err("waitgroup expected", wg.done, go.mutex())
  -- in a goroutine, raised there
  local res = chan(1)
  go(function()
    local ok, e = pcall(wg.done, wg)
    res:send(not ok and e:find("sync: negative waitgroup counter", 1, true) ~= nil)
  end)
  assert(res:recv() == true)
  -- a blocking wait where Lua cannot suspend
  wg:add(1)
  local ok, e = pcall(table.sort, { 3, 1, 2 }, function(a, b) wg:wait(); return a < b end)
  assert(not ok and e:find("cannot block", 1, true) and e:find("wg:wait", 1, true), e)
  wg:done()
end

do
  local wg = go.waitgroup()
  assert(tostring(wg):match("^waitgroup: "), tostring(wg))
  assert(getmetatable(wg).__name == "waitgroup")
end
