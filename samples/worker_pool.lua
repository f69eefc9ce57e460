-- A worker pool: bounded parallelism. A fixed number of workers take jobs
-- from a channel; however many jobs there are, no more than that number
-- run at once. Then the same bound with an error group's limit.
-- Run: lungo samples/worker_pool.lua [jobs] [workers]
local P = require "lungo.pipeline"
local JOBS = tonumber(arg and arg[1]) or 12
local WORKERS = tonumber(arg and arg[2]) or 3

-- A gauge goroutine counts the jobs running right now (+1 / -1 messages)
-- and remembers the highest count: goroutines share nothing, so the
-- count lives in one goroutine and the others talk to it.
local function start_gauge()
  local gauge, peak = chan(), chan(1)
  go(function()
    local now, high = 0, 0
    for d in gauge:range() do
      now = now + d
      if now > high then high = now end
    end
    peak:send(high)
  end)
  return gauge, peak
end

-- a job: pretend to wait for I/O, then compute something
local function job(id, gauge)
  gauge:send(1)
  go.sleep(0.002 * (id % 4 + 1))
  gauge:send(-1)
  return id * id
end

-- 1. A classic pool: jobs in, results out, WORKERS goroutines in between
local t0 = go.now()
local gauge, peak = start_gauge()
local jobs, results = chan(JOBS), chan(JOBS)
for w = 1, WORKERS do
  go(function()
    for id in jobs:range() do results:send({ id = id, value = job(id, gauge), worker = w }) end
  end)
end
for id = 1, JOBS do jobs:send(id) end
jobs:close()
local by_id = {}
for _ = 1, JOBS do
  local r = results:recv()
  by_id[r.id] = r.value
end
gauge:close()
local high = peak:recv()
local line = {}
for id = 1, JOBS do line[#line + 1] = by_id[id] end
print(string.format("pool of %d workers, %d jobs: %s", WORKERS, JOBS, table.concat(line, " ")))
print(string.format("never more than %d jobs at once: %s", WORKERS, high <= WORKERS and "yes" or "NO (" .. high .. ")"))
print(string.format("# peak %d running, %.3f s", high, go.now() - t0))

-- 2. The same with lungo.pipeline: an ordered parallel map is a pool
gauge, peak = start_gauge()
local squares = P.collect(P.map(nil, P.range(nil, JOBS), function(id) return job(id, gauge) end, WORKERS))
gauge:close()
high = peak:recv()
print(string.format("P.map with %d workers:  %s", WORKERS, table.concat(squares, " ")))
print(string.format("never more than %d jobs at once: %s", WORKERS, high <= WORKERS and "yes" or "NO (" .. high .. ")"))

-- 3. An error group with a limit: g:go blocks while WORKERS functions run
gauge, peak = start_gauge()
local g = P.group(WORKERS)
local sums = chan(JOBS)
for id = 1, JOBS do
  g:go(function(ctx, id) sums:send(job(id, gauge)) end, id)
end
assert(g:wait())
gauge:close()
high = peak:recv()
sums:close()
local total = P.reduce(sums, function(a, b) return a + b end, 0)
print(string.format("error group, limit %d: sum of squares %d", WORKERS, total))
print(string.format("never more than %d jobs at once: %s", WORKERS, high <= WORKERS and "yes" or "NO (" .. high .. ")"))
