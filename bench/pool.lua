-- pool: a worker pool. 8 goroutines range over a jobs channel of 1 KiB
-- strings and send a checksum of each back; main feeds the jobs from a
-- goroutine and sums the results. Placement decides this shape: pool
-- goroutines that all start on the spawner's worker stay there.
-- Usage: lungo bench/pool.lua [N=100000] [WORKERS=8]
-- Same keys as bench/go/pool: ns_per_job, total_ms, spread (workers that
-- ran at least one job).
local n = tonumber(arg and arg[1]) or 100000
local nw = tonumber(arg and arg[2]) or 8
local CAP = 64
local job = string.rep("x", 1023)

-- Each result is an integer, as in the Go twin; a pool goroutine says
-- once, at its end, on which worker it ran and whether it had any job.
local function poolworker(jobs, results)
  local did = false
  for s in jobs:range() do
    results:send(#s + s:byte(1))
    did = true
  end
  results:send({ go.worker(), did })
end

local t0 = go.now()
local jobs, results = chan(CAP), chan(CAP)
for _ = 1, nw do go(poolworker, jobs, results) end
go(function(c, k, s)
  for i = 1, k do c:send(s .. string.char(48 + i % 10)) end
  c:close()
end, jobs, n, job)
local sum, left, ran = 0, nw, {}
while left > 0 do
  local r = results:recv()
  if type(r) == "number" then sum = sum + r
  else
    left = left - 1
    if r[2] then ran[r[1]] = true end
  end
end
local el = go.now() - t0
local spread = 0
for _ in pairs(ran) do spread = spread + 1 end
print(string.format("pool n=%d workers=%d sum=%d spread=%d ns_per_job=%.1f total_ms=%.1f check=%s",
  n, nw, sum, spread, el * 1e9 / n, el * 1e3, sum == n * (1024 + 120) and "ok" or "WRONG"))
