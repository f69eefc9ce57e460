-- Buffered channels: capacity, len, FIFO order, blocking when full or empty,
-- per-producer order with several producers, a large buffer.
local ch = chan(3)
assert(ch:cap() == 3 and #ch == 0 and ch:len() == 0)
assert(go.chan(5):cap() == 5)

-- filling does not block even with nobody else around
ch:send(1); ch:send("two"); ch:send({ 3 })
assert(#ch == 3 and ch:len() == 3, "len counts buffered values")
assert(ch:recv() == 1); assert(#ch == 2)
assert(ch:recv() == "two"); assert(#ch == 1)
local t, ok = ch:recv()
assert(ok == true and t[1] == 3); assert(#ch == 0)

-- a send on a full channel blocks until someone receives
do
  local c, log = chan(2), chan(10)
  c:send(1); c:send(2)
  go(function()
    c:send(3)
    log:send("done")
  end)
  for _ = 1, 200 do go.yield() end
  assert(#log == 0, "send on a full channel did not block")
  assert(#c == 2, "the blocked sender's value is not in the buffer")
  assert(c:recv() == 1)
  assert(log:recv() == "done")
  assert(c:recv() == 2)
  assert(c:recv() == 3)
  assert(#c == 0)
end

-- a receive on an empty buffered channel blocks until someone sends
do
  local c, log = chan(4), chan(10)
  go(function() log:send(c:recv()) end)
  for _ = 1, 200 do go.yield() end
  assert(#log == 0, "recv on an empty channel did not block")
  c:send(7)
  assert(log:recv() == 7)
end

-- FIFO through a small buffer between two goroutines
do
  local c = chan(10)
  go(function() for i = 1, 5000 do c:send(i) end end)
  for i = 1, 5000 do
    local v = c:recv()
    assert(v == i, ("FIFO broken: got %s, want %d"):format(tostring(v), i))
  end
end

-- several producers: each producer's values arrive in its own order
do
  local c = chan(16)
  local P, K = 8, 1000
  for p = 1, P do
    go(function() for k = 1, K do c:send({ p, k }) end end)
  end
  local last = {}
  for _ = 1, P * K do
    local v = c:recv()
    local p, k = v[1], v[2]
    assert(k == (last[p] or 0) + 1, "per-producer order broken for producer " .. p)
    last[p] = k
  end
  for p = 1, P do assert(last[p] == K) end
  assert(#c == 0)
end

-- a large buffer fills and drains in order
do
  local N = 100000
  local c = chan(N)
  for i = 1, N do c:send(i) end
  assert(#c == N and c:cap() == N)
  for i = 1, N do assert(c:recv() == i) end
  assert(#c == 0)
end

-- capacity 1 used as a token
do
  local token = chan(1)
  local out = chan(200)
  token:send("t")
  for i = 1, 100 do
    go(function()
      local tk = token:recv()
      out:send(i)
      token:send(tk)
    end)
  end
  local sum = 0
  for _ = 1, 100 do sum = sum + out:recv() end
  assert(sum == 5050)
  assert(token:recv() == "t")
end
