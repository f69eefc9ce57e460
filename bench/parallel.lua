-- parallel: CPU-bound. T goroutines each compute a naive recursive fib(F);
-- results come back over a channel. Run with 1 and 2 workers to get the
-- speedup. Usage: lungo bench/parallel.lua [T=16] [F=30]
local tasks = tonumber(arg and arg[1]) or 16
local f = tonumber(arg and arg[2]) or 30

local function task(res, k)
  local function fib(x)
    if x < 2 then return x end
    return fib(x - 1) + fib(x - 2)
  end
  res:send(fib(k))
end

local function fib_iter(k)
  local a, b = 0, 1
  for _ = 1, k do a, b = b, a + b end
  return a
end

local t0 = go.now()
local res = chan()
for _ = 1, tasks do go(task, res, f) end
local sum = 0
for _ = 1, tasks do sum = sum + res:recv() end
local el = go.now() - t0
print(string.format("parallel tasks=%d fib=%d sum=%d total_ms=%.1f workers=%d check=%s",
  tasks, f, sum, el * 1e3, go.workers(), sum == tasks * fib_iter(f) and "ok" or "WRONG"))
