-- timers: N goroutines, spawned in one burst, each sleeping a random
-- duration in [0, 100 ms) and measuring how late it woke. Timers must not
-- wait behind the goroutines still being spawned.
-- Usage: lungo bench/timers.lua [N=100000]
-- Same keys as bench/go/timers: mean_late_ms, max_late_ms, total_ms.
local n = tonumber(arg and arg[1]) or 100000
local res = chan(n)
local function sleeper(d, out)
  local t = go.now()
  go.sleep(d)
  out:send(go.now() - t - d)
end
local t0 = go.now()
local seed = 12345
for _ = 1, n do
  seed = (seed * 1103515245 + 12345) % 2147483648     -- the same durations in Go
  go(sleeper, (seed % 100000) / 1e6, res)
end
local sum, max = 0, 0
for _ = 1, n do
  local l = res:recv()
  sum = sum + l
  if l > max then max = l end
end
local el = go.now() - t0
print(string.format("timers n=%d mean_late_ms=%.2f max_late_ms=%.2f total_ms=%.1f check=ok",
  n, sum / n * 1e3, max * 1e3, el * 1e3))
