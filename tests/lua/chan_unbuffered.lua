-- Unbuffered channels: rendezvous semantics, ping-pong, many senders and
-- receivers, a 1000-goroutine daisy chain, value types.
local ch = chan()
assert(ch:cap() == 0 and #ch == 0 and ch:len() == 0, "chan() is unbuffered")
assert(chan(0):cap() == 0 and go.chan():cap() == 0 and go.chan(0):cap() == 0)

-- ping-pong
local ping, pong = chan(), chan()
go(function()
  while true do
    local v, ok = ping:recv()
    if not ok then break end
    pong:send(v + 1)
  end
end)
for i = 1, 2000 do
  ping:send(i)
  assert(pong:recv() == i + 1, "ping-pong " .. i)
end
ping:close()

-- a send completes only once a receiver has taken the value
do
  local c, log = chan(), chan(10)
  go(function()
    c:send("v")
    log:send("sent")
  end)
  for _ = 1, 200 do go.yield() end
  assert(#log == 0, "unbuffered send completed without a receiver")
  assert(#c == 0, "an unbuffered channel never holds values")
  assert(c:recv() == "v")
  assert(log:recv() == "sent")
end

-- and a receive completes only once a sender came
do
  local c, log = chan(), chan(10)
  go(function() log:send(c:recv()) end)
  for _ = 1, 200 do go.yield() end
  assert(#log == 0, "unbuffered receive completed without a sender")
  c:send(42)
  assert(log:recv() == 42)
end

-- many senders, one receiver
do
  local c = chan()
  for i = 1, 100 do
    go(function() for _ = 1, 10 do c:send(i) end end)
  end
  local sum = 0
  for _ = 1, 1000 do sum = sum + c:recv() end
  assert(sum == 10 * 5050, "many senders: " .. sum)
end

-- one sender, many receivers
do
  local c, res = chan(), chan(100)
  for _ = 1, 100 do
    go(function() res:send(c:recv()) end)
  end
  for i = 1, 100 do c:send(i) end
  local seen, sum = {}, 0
  for _ = 1, 100 do
    local v = res:recv()
    assert(not seen[v], "value received twice: " .. v)
    seen[v] = true
    sum = sum + v
  end
  assert(sum == 5050)
end

-- daisy chain: 1000 goroutines each passing value+1 to the left
do
  local N = 1000
  local leftmost = chan()
  local left = leftmost
  for _ = 1, N do
    local right = chan()
    go(function(l, r) l:send(r:recv() + 1) end, left, right)
    left = right
  end
  left:send(0)
  assert(leftmost:recv() == N, "daisy chain")
end

-- every kind of value crosses an unbuffered channel
do
  local c = chan()
  local vals = { false, true, 0, -7, 1.5, "", "text", { 1, { 2 } } }
  go(function()
    for i = 1, #vals do c:send(vals[i]) end
  end)
  for i = 1, #vals do
    local v, ok = c:recv()
    assert(ok == true, "ok is true for a value")
    if type(vals[i]) == "table" then
      assert(type(v) == "table" and v[1] == 1 and v[2][1] == 2)
    else
      assert(v == vals[i] and math.type(v) == math.type(vals[i]), "value " .. i)
    end
  end
end
