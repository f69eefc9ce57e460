-- pipeline: gen -> square -> sum over channels of capacity 128, N items.
-- Variant "fan": gen -> 2 square workers -> merged channel -> sum.
-- Usage: lungo bench/pipeline.lua [N=1000000] [fan]
-- checksum: sum of i^2 for i = 1..N.
local n = tonumber(arg and arg[1]) or 1000000
local CAP = 128
local workers, mode = 1, "chain"
if arg and arg[2] == "fan" then workers, mode = 2, "fan" end

local function gen(k, out)
  for i = 1, k do out:send(i) end
  out:close()
end

local function square(inc, out, wg)
  for v in inc:range() do out:send(v * v) end
  wg:done()
end

local t0 = go.now()
local nums, sq = chan(CAP), chan(CAP)
go(gen, n, nums)
local wg = go.waitgroup()
wg:add(workers)
for _ = 1, workers do go(square, nums, sq, wg) end
go(function(w, c) w:wait(); c:close() end, wg, sq)
local sum = 0
for v in sq:range() do sum = sum + v end
local el = go.now() - t0
print(string.format("pipeline mode=%s n=%d sum=%d ns_per_item=%.1f total_ms=%.1f check=%s",
  mode, n, sum, el * 1e9 / n, el * 1e3, sum == (n * (n + 1) // 2) * (2 * n + 1) // 3 and "ok" or "WRONG"))
