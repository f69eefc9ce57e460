-- close(): draining after close, (nil, false) forever after, waking every
-- blocked receiver and sender, false values still have ok == true.
do
  local c = chan(3)
  c:send("a"); c:send("b")
  c:close()
  assert(#c == 2, "values stay buffered after close")
  local v, ok = c:recv(); assert(v == "a" and ok == true)
  v, ok = c:recv(); assert(v == "b" and ok == true)
  for _ = 1, 3 do
    v, ok = c:recv()
    assert(v == nil and ok == false, "closed and drained gives nil, false")
  end
  assert(#c == 0 and c:cap() == 3, "len and cap still work on a closed channel")
end

do
  local c = chan()
  c:close()
  local v, ok = c:recv()
  assert(v == nil and ok == false, "closed unbuffered channel")
end

do
  local c = chan(1)
  c:send(false)
  c:close()
  local v, ok = c:recv()
  assert(v == false and ok == true, "false is a value, ok is true")
  v, ok = c:recv()
  assert(v == nil and ok == false)
end

-- close wakes every blocked receiver with nil, false
do
  local c, res = chan(), chan(50)
  for _ = 1, 50 do
    go(function()
      local v, ok = c:recv()
      res:send(v == nil and ok == false)
    end)
  end
  for _ = 1, 50 do go.yield() end
  c:close()
  for _ = 1, 50 do assert(res:recv() == true, "woken receiver got nil, false") end
end

-- close wakes every blocked sender with "send on closed channel"
do
  local c, res = chan(), chan(50)
  for i = 1, 50 do
    go(function()
      local ok, err = pcall(c.send, c, i)
      res:send(not ok and tostring(err):find("send on closed channel", 1, true) ~= nil)
    end)
  end
  for _ = 1, 50 do go.yield() end
  c:close()
  for _ = 1, 50 do assert(res:recv() == true, "woken sender got an error") end
end

-- senders blocked on a full buffer fail; the buffered values survive
do
  local c, res = chan(2), chan(3)
  c:send("a"); c:send("b")
  for i = 1, 3 do
    go(function()
      local ok, err = pcall(c.send, c, i)
      res:send(not ok and tostring(err):find("send on closed channel", 1, true) ~= nil)
    end)
  end
  for _ = 1, 50 do go.yield() end
  c:close()
  for _ = 1, 3 do assert(res:recv() == true) end
  assert(c:recv() == "a"); assert(c:recv() == "b")
  local v, ok = c:recv()
  assert(v == nil and ok == false, "only the buffered values remain")
end

-- a goroutine closes while main is blocked in recv
do
  local c = chan()
  go(function() c:close() end)
  local v, ok = c:recv()
  assert(v == nil and ok == false)
end

-- close is seen by goroutines on any worker, in a nested coroutine too
do
  local c, res = chan(), chan(20)
  for _ = 1, 20 do
    go(function()
      local co = coroutine.wrap(function() return c:recv() end)
      local v, ok = co()
      res:send(v == nil and ok == false)
    end)
  end
  c:close()
  for _ = 1, 20 do assert(res:recv() == true) end
end
