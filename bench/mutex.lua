-- mutex: G goroutines each doing N lock/unlock pairs on one go.mutex,
-- with a little work inside (a count of their own). Contended: unlock
-- finds waiters nearly every time, so how the lock passes decides the
-- cost of a pair.
-- Usage: lungo bench/mutex.lua [N=200000] [G=4]
-- Same keys as bench/go/mutex: ns_per_pair, total_ms.
local n = tonumber(arg and arg[1]) or 200000
local g = tonumber(arg and arg[2]) or 4
local mu, wg = go.mutex(), go.waitgroup()
local done = chan(g)
local t0 = go.now()
wg:add(g)
for _ = 1, g do
  go(function()
    local c = 0
    for _ = 1, n do
      mu:lock()
      c = c + 1
      mu:unlock()
    end
    done:send(c)
    wg:done()
  end)
end
wg:wait()
local el = go.now() - t0
local total = 0
for _ = 1, g do total = total + done:recv() end
print(string.format("mutex n=%d g=%d total_ms=%.1f ns_per_pair=%.1f check=%s",
  n, g, el * 1e3, el * 1e9 / (n * g), total == n * g and "ok" or "WRONG"))
