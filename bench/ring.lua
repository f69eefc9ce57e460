-- ring: benchmarks-game thread-ring. 503 goroutines in a ring pass a token
-- N times; the goroutine that receives 0 reports its id (1-based).
-- Expected id = N % 503 + 1. The others are then shut down by closing
-- their channels. Usage: lungo bench/ring.lua [N=5000000]
local n = tonumber(arg and arg[1]) or 5000000
local RING = 503

local function worker(id, inc, out, done)
  while true do
    local t, ok = inc:recv()
    if not ok then return end
    if t == 0 then
      done:send(id)
      return
    end
    out:send(t - 1)
  end
end

local chs = {}
for i = 1, RING do chs[i] = chan() end
local done = chan()
local t0 = go.now()
for i = 1, RING do
  go(worker, i, chs[i], chs[i % RING + 1], done)
end
chs[1]:send(n)
local id = done:recv()
local el = go.now() - t0
for _, c in ipairs(chs) do c:close() end
print(string.format("ring n=%d last=%d ns_per_hop=%.1f total_ms=%.1f check=%s",
  n, id, el * 1e9 / (n + 1), el * 1e3, id == n % RING + 1 and "ok" or "WRONG"))
