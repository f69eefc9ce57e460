-- spawnjoin: spawn N short goroutines that each send one integer on a
-- buffered channel (capacity N, so no sender ever blocks); main then sums
-- them. Usage: lungo bench/spawnjoin.lua [N=1000000]
local n = tonumber(arg and arg[1]) or 1000000
local t0 = go.now()
local ch = chan(n)
local function send(c, v) c:send(v) end
for i = 1, n do go(send, ch, i) end
local sum = 0
for _ = 1, n do sum = sum + ch:recv() end
local el = go.now() - t0
print(string.format("spawnjoin n=%d sum=%d ns_per_goroutine=%.1f total_ms=%.1f check=%s",
  n, sum, el * 1e9 / n, el * 1e3, sum == n * (n + 1) // 2 and "ok" or "WRONG"))
