-- 10 000 goroutines fan in to one channel, 10 values each, nothing lost or
-- duplicated, each producer's values in order; a closer goroutine closes the
-- channel once every producer reported. Then the same through a buffer.
local function run(P, K, cap)
  local out = chan(cap)
  local done = chan()
  for p = 1, P do
    go(function()
      for k = 1, K do out:send(p * 1000 + k) end
      done:send(p)
    end)
  end
  go(function()
    for _ = 1, P do done:recv() end
    out:close()
  end)
  local count, sum, last = 0, 0, {}
  for v in out:range() do
    local p, k = v // 1000, v % 1000
    assert(k == (last[p] or 0) + 1, ("producer %d: got value %d after %d"):format(p, k, last[p] or 0))
    last[p] = k
    count = count + 1
    sum = sum + v
  end
  assert(count == P * K, ("received %d values, want %d"):format(count, P * K))
  local want = 1000 * K * (P * (P + 1) // 2) + P * (K * (K + 1) // 2)
  assert(sum == want, ("checksum %d, want %d"):format(sum, want))
  for p = 1, P do assert(last[p] == K, "producer " .. p .. " incomplete") end
end

run(10000, 10, 0)
run(10000, 10, 64)
