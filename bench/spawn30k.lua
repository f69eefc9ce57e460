-- spawn30k: spawn N goroutines that each signal a waitgroup and then block
-- on a channel that is never sent on; report resident memory per parked
-- goroutine and the time to spawn and park them all. Then the channel is
-- closed and every goroutine is waited for (clean shutdown).
-- Usage: lungo bench/spawn30k.lua [N=30000] [closure]
-- With "closure", each goroutine runs a new closure over the three objects
-- (`go(function() ... end)` in the loop, the common way to write it)
-- instead of one function given them as arguments.
-- Same keys as the Go reference: rss_kb_per_g is VmRSS growth / N in KB;
-- sys_kb_per_g is the growth of go.stats().memory (bytes the Lua states
-- hold) / N in KB.
local n = tonumber(arg and arg[1]) or 30000
local closure = arg and arg[2] == "closure"

local function rss_kb()
  local f = io.open("/proc/self/status")
  if not f then return 0 end
  local s = f:read("a")
  f:close()
  return tonumber(s:match("VmRSS:%s*(%d+)")) or 0
end

local block = chan()                 -- never sent on: receivers block until close
local started, exited = go.waitgroup(), go.waitgroup()
collectgarbage()
local mem0 = go.stats().memory
local rss0 = rss_kb()
local t0 = go.now()
started:add(n)
exited:add(n)
local function parked(st, bl, ex)
  st:done()
  bl:recv()
  ex:done()
end
if closure then
  for _ = 1, n do
    go(function()
      started:done()
      block:recv()
      exited:done()
    end)
  end
else
  for _ = 1, n do go(parked, started, block, exited) end
end
started:wait()
local el = go.now() - t0
local mem1 = go.stats().memory
local rss1 = rss_kb()
local live = go.count() - 1
print(string.format("spawn30k n=%d spawn_ms=%.1f rss_kb_per_g=%.2f sys_kb_per_g=%.2f live=%d",
  n, el * 1e3, (rss1 - rss0) / n, (mem1 - mem0) / 1024 / n, live))
block:close()
exited:wait()
