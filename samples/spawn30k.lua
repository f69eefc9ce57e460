-- How much does a parked goroutine cost? Spawn 30 000 goroutines that each
-- block on one channel, measure memory and time, then release them all and
-- check that every one of them finished.
-- Run: lungo samples/spawn30k.lua [count]
-- Lines starting with "# " are measurements: they vary from run to run.
local N = tonumber(arg and arg[1]) or 30000

local function rss_kb()           -- resident set size of this process, from Linux's /proc
  local f = io.open("/proc/self/status")
  if not f then return nil end
  local kb
  for line in f:lines() do
    kb = kb or tonumber(line:match("^VmRSS:%s*(%d+)%s*kB"))
  end
  f:close()
  return kb
end

local base = go.count()
local release = chan()            -- unbuffered, never sent on: closing it wakes everybody
local started = chan(N)           -- each goroutine checks in once it runs
local finished = chan(N)          -- and reports its number once released

collectgarbage()
local mem0, rss0, t0 = go.stats().memory, rss_kb(), go.now()

for i = 1, N do
  go(function(k)
    started:send(k)
    release:recv()                -- parks until release is closed
    finished:send(k)
  end, i)
end
for _ = 1, N do started:recv() end
-- every goroutine has run; wait until they are all parked on `release`
-- (one of them may still be between its check-in and the receive)
local t1 = go.now()
go.sleep(0.01)

local st = go.stats()
local mem1, rss1 = st.memory, rss_kb()
local alive = go.count() - base
print(string.format("spawned %d goroutines, each blocked on a channel: %s", N,
                    alive == N and "all alive" or ("only " .. alive .. " alive")))
print(string.format("# spawn and start: %.3f s (%.2f us per goroutine) on %d workers",
                    t1 - t0, (t1 - t0) * 1e6 / N, st.workers))
print(string.format("# Lua memory: %.1f MB for them, %d bytes per goroutine",
                    (mem1 - mem0) / 2^20, (mem1 - mem0) // N))
if rss0 and rss1 then
  print(string.format("# process RSS: %.1f MB -> %.1f MB, %d bytes per goroutine",
                      rss0 / 1024, rss1 / 1024, (rss1 - rss0) * 1024 // N))
end
local per = {}
for w, n in ipairs(st.per_worker) do per[#per + 1] = string.format("%d:%d", w, n) end
print("# goroutines per worker: " .. table.concat(per, " "))

local t2 = go.now()
release:close()
local seen, sum = 0, 0
for _ = 1, N do
  sum = sum + finished:recv()
  seen = seen + 1
end
local t3 = go.now()
print(string.format("released them: %d finished, sum of their numbers %s", seen,
                    sum == N * (N + 1) // 2 and "correct" or "WRONG"))
print(string.format("# release and finish: %.3f s", t3 - t2))

for _ = 1, 10000 do                       -- the last ones may still be returning
  if go.count() == base then break end
  go.sleep(0.001)
end
print(string.format("goroutines left: %d", go.count() - base))
