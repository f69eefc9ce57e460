-- Coroutines nested in goroutines: a channel operation inside a nested
-- coroutine parks the whole goroutine and resumes it in place; ordinary
-- yields of the nested coroutine keep working, interleaved with channel ops.
local function suite(tag)
  -- a generator that receives from a channel between its own yields
  do
    local src = chan()
    go(function()
      for i = 1, 100 do src:send(i) end
      src:close()
    end)
    local gen = coroutine.wrap(function()
      while true do
        local v, ok = src:recv()
        if not ok then return nil end
        coroutine.yield(v * 2)
        coroutine.yield(-v)
      end
    end)
    for i = 1, 100 do
      assert(gen() == 2 * i, tag .. ": generator value")
      assert(gen() == -i, tag .. ": generator second value")
    end
    assert(gen() == nil)
  end

  -- values flow through resume/yield while the coroutine also blocks
  do
    local src = chan()
    go(function() src:send(100) end)
    local co = coroutine.create(function(a)
      assert(coroutine.isyieldable())
      local b = coroutine.yield(a + 1)
      local v = src:recv()
      local c = coroutine.yield(b + v)
      return c * 2
    end)
    local ok, r = coroutine.resume(co, 1); assert(ok and r == 2, tag)
    ok, r = coroutine.resume(co, 10); assert(ok and r == 110, tag)
    assert(coroutine.status(co) == "suspended")
    ok, r = coroutine.resume(co, 7); assert(ok and r == 14, tag)
    assert(coroutine.status(co) == "dead")
  end

  -- three levels deep; the innermost blocks on recv and on send
  do
    local a, b = chan(), chan()
    go(function()
      for i = 1, 10 do
        a:send(i)
        assert(b:recv() == i * 10)
      end
    end)
    local outer = coroutine.wrap(function()
      local middle = coroutine.wrap(function()
        local inner = coroutine.wrap(function()
          for _ = 1, 10 do
            local v = a:recv()
            b:send(v * 10)
            coroutine.yield(v)
          end
        end)
        for _ = 1, 10 do coroutine.yield(inner() + 1000) end
      end)
      for _ = 1, 10 do coroutine.yield(middle() + 1000) end
    end)
    for i = 1, 10 do assert(outer() == i + 2000, tag .. ": three levels") end
  end

  -- go.yield() inside a nested coroutine yields the goroutine, not the coroutine
  do
    local co = coroutine.wrap(function()
      go.yield()
      coroutine.yield(1)
      go.yield()
      go.yield()
      return 2
    end)
    assert(co() == 1 and co() == 2, tag .. ": go.yield in a coroutine")
  end

  -- pcall around a blocking op in a coroutine; an error while blocked
  do
    local c = chan()
    local co = coroutine.wrap(function()
      local ok, err = pcall(c.send, c, "x")     -- blocks; then the channel is closed
      coroutine.yield(ok, err)
      local v, ok2 = c:recv()
      return v, ok2
    end)
    go(function() for _ = 1, 20 do go.yield() end; c:close() end)
    local ok, err = co()
    assert(ok == false and tostring(err):find("send on closed channel", 1, true), tag .. ": " .. tostring(err))
    local v, ok2 = co()
    assert(v == nil and ok2 == false)
  end

  -- an error after a channel op propagates out of the coroutine
  do
    local c = chan()
    go(function() c:send("go on") end)
    local co = coroutine.create(function()
      assert(c:recv() == "go on")
      error("after recv")
    end)
    local ok, err = coroutine.resume(co)
    assert(not ok and tostring(err):find("after recv", 1, true), tag)
  end

  -- close a coroutine that had parked earlier
  do
    local c = chan()
    go(function() c:send(1) end)
    local co = coroutine.create(function()
      c:recv()
      coroutine.yield("parked and back")
      error("never resumed")
    end)
    local ok, v = coroutine.resume(co)
    assert(ok and v == "parked and back")
    assert(coroutine.close(co) == true and coroutine.status(co) == "dead")
  end
end

suite("main")

-- many goroutines, each running generators that block, interleaved on any workers
local results = chan()
local N = 200
for i = 1, N do
  go(function(k)
    suite("goroutine " .. k)
    local feed = chan()
    go(function() for j = 1, 5 do feed:send(k * j) end end)
    local gen = coroutine.wrap(function()
      for _ = 1, 5 do coroutine.yield(feed:recv()) end
    end)
    local s = 0
    for _ = 1, 5 do s = s + gen() end
    results:send(s)
  end, i)
end
local total = 0
for _ = 1, N do total = total + results:recv() end
assert(total == 15 * N * (N + 1) // 2, "sum over goroutines " .. total)
