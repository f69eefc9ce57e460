-- Waiting only on something a timer will bring is not a deadlock: every
-- goroutine is parked, but a pending timer can still wake one of them.
local t0 = go.now()

-- main waits on a channel that a sleeping goroutine sends to after 30 ms
local ch = chan()
go(function()
  go.sleep(0.03)
  ch:send("late")
end)
assert(ch:recv() == "late")
assert(go.now() - t0 >= 0.029)

-- main waits on a go.after channel alone
local t1 = go.now()
local v, ok = go.after(0.03):recv()
assert(ok and v >= t1 + 0.03 - 1e-6)

-- main in a select whose only ready-able case is a timer
local never = chan()
local i = go.select(never, nil, go.after(0.02))
assert(i == 3)

-- main and a goroutine both wait: the goroutine on a ticker, main on it
local res = chan()
go(function()
  local tk = go.ticker(0.01)
  local n = 0
  for _ in tk:range() do
    n = n + 1
    if n == 3 then tk:close() break end   -- (a tick already buffered would make 4)
  end
  res:send(n)
end)
assert(res:recv() == 3)

-- a chain: each goroutine sleeps then wakes the next
local first = chan()
local prev = first
for k = 1, 5 do
  local nextc = chan()
  local p = prev
  go(function()
    local x = p:recv()
    go.sleep(0.005)
    nextc:send(x + 1)
  end)
  prev = nextc
end
go(function() go.sleep(0.01); first:send(0) end)
assert(prev:recv() == 5)
