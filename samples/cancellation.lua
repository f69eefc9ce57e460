-- Cancellation with a done channel (Go's "pipelines and cancellation"):
-- the consumer stops early, closes done, and every stage, however many
-- goroutines it runs, stops and closes its output. No goroutine is left.
-- Run: lungo samples/cancellation.lua
local P = require "lungo.pipeline"

local function wait_for(count)       -- stages wind down asynchronously
  for _ = 1, 5000 do
    if go.count() <= count then return go.count() end
    go.sleep(0.001)
  end
  return go.count()
end

local base = go.count()
print("goroutines at start: " .. base)

-- 1. By hand. Every send and every receive also waits on done.
local function naturals(done)
  local out = chan()
  go(function()
    local n = 0
    while true do
      n = n + 1
      if go.select({ out, n }, done) == 2 then break end
    end
    out:close()
  end)
  return out
end

local function square(done, inp)
  local out = chan()
  go(function()
    while true do
      local i, v, ok = go.select(inp, done)
      if i == 2 or not ok then break end
      if go.select({ out, v * v }, done) == 2 then break end
    end
    out:close()
  end)
  return out
end

local done = chan()
local squares = square(done, square(done, naturals(done)))
local first = {}
for _ = 1, 6 do first[#first + 1] = squares:recv() end
print("fourth powers: " .. table.concat(first, " "))
print("# goroutines still running before cancelling: " .. go.count())
done:close()                          -- broadcast: every receive on done now succeeds
print("after closing done, goroutines: " .. wait_for(base))

-- 2. The same with lungo.pipeline, many goroutines per stage, and a context
do
  local ctx <close> = P.context()    -- closed (cancelled) when the block ends, like Go's defer cancel()
  local s = P.range(ctx, 1, math.huge)
  s = P.map(ctx, s, function(x) return x * x end, 4)             -- 4 workers, order kept
  s = P.filter(ctx, s, function(x) return x % 3 == 1 end, 3)      -- 3 workers, order kept
  s = P.batch(ctx, s, 4)
  local b1 = s:recv()
  print("first batch: " .. table.concat(b1, " "))
  print("# goroutines while the pipeline runs: " .. go.count())
end
print("after the context closed, goroutines: " .. wait_for(base))

-- 3. A stream owns its context: take() on an endless stream is safe
local t = P.stream(1, math.huge):map(function(x) return 1 << x end, 2):take(5):collect()
print("powers of two: " .. table.concat(t, " "))
print("after the stream, goroutines: " .. wait_for(base))

-- 4. A context with a timeout cancels itself
local ctx = P.context(0.05)
local n = P.drain(P.range(ctx, 1, math.huge))
print(string.format("# counted to %d before the timeout", n))
print("timed out: " .. tostring(ctx:cancelled()) .. ", goroutines: " .. wait_for(base))
