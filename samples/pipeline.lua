-- Pipelines: stages connected by channels, each stage a goroutine (or a
-- few). First by hand, as in Go's "Pipelines and cancellation" article,
-- then with lungo.pipeline, Go style and Lua style.
-- Run: lungo samples/pipeline.lua
local P = require "lungo.pipeline"

-- 1. By hand: gen -> sq -> sq -> consumer. Each stage closes its output
--    when its input is exhausted, so `range` ends downstream.
local function gen(...)
  local out = chan()
  go(function(...)
    for _, n in ipairs({ ... }) do out:send(n) end
    out:close()
  end, ...)
  return out
end

local function sq(inp)
  local out = chan()
  go(function()
    for n in inp:range() do out:send(n * n) end
    out:close()
  end)
  return out
end

local got = {}
for v in sq(sq(gen(1, 2, 3, 4))):range() do got[#got + 1] = v end
print("by hand, gen -> sq -> sq:    " .. table.concat(got, " "))

-- 2. Go style with lungo.pipeline: every stage is stage(done, in, ...).
--    range -> square (4 workers, order kept) -> keep odd ones -> batches of 3 -> sum each
local ctx = P.context()
local nums = P.range(ctx, 1, 20)
local squares = P.map(ctx, nums, function(x) return x * x end, 4)
local odd = P.filter(ctx, squares, function(x) return x % 2 == 1 end)
local batches = P.batch(ctx, odd, 3)
local sums = P.map(ctx, batches, function(b)
  local s = 0
  for _, v in ipairs(b) do s = s + v end
  return table.concat(b, "+") .. "=" .. s
end)
for line in P.iter(sums) do print("batch sum:   " .. line) end
ctx:cancel()

-- 3. Lua style: a stream reads like a chain of iterator adaptors
local total = P.stream(1, 100)
  :filter(function(x) return x % 3 == 0 end)
  :map(function(x) return x * x end, 4)
  :reduce(function(a, x) return a + x end, 0)
print("sum of squares of multiples of 3 up to 100: " .. total)

-- 4. Strings and tables go through stages too (copied at each hop)
local words = P.stream({ "channel", "goroutine", "select", "worker", "pipeline" })
  :map(function(w) return { word = w, len = #w, upper = w:upper() } end, 3)
  :filter(function(r) return r.len > 6 end)
  :collect()
for _, r in ipairs(words) do print(string.format("  %-10s %2d  %s", r.word, r.len, r.upper)) end
