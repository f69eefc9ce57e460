-- 100 000 goroutines parked on one channel at once, then released: half by
-- values sent one at a time, the rest by close. Every goroutine accounted for.
local N = 100000
local gate = chan()
local results = chan(N)
for _ = 1, N do
  go(function()
    local v, ok = gate:recv()
    if ok then results:send(v) else results:send(0) end
  end)
end
assert(go.count() == N + 1, ("%d goroutines parked + main, go.count() = %d"):format(N, go.count()))

local half = N // 2
for i = 1, half do gate:send(i) end
gate:close()

local seen, sum, zeros = {}, 0, 0
for _ = 1, N do
  local v = results:recv()
  if v == 0 then
    zeros = zeros + 1
  else
    assert(not seen[v], "value delivered twice: " .. v)
    seen[v] = true
    sum = sum + v
  end
end
assert(zeros == N - half, "released by close: " .. zeros)
assert(sum == half * (half + 1) // 2, "every sent value received once")
assert(#results == 0)

local spins = 0
while go.count() > 1 do
  spins = spins + 1
  assert(spins < 10000000, "goroutines did not finish: go.count() = " .. go.count())
  go.yield()
end
assert(go.count() == 1)
