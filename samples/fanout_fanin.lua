-- Fan-out, fan-in: several workers read from one channel (fan-out), each
-- has its own output channel, and merge joins those into one (fan-in).
-- Run: lungo samples/fanout_fanin.lua [workers]
local P = require "lungo.pipeline"
local WORKERS = tonumber(arg and arg[1]) or 4

-- the work: how many steps does n take to reach 1 in the Collatz sequence?
local function collatz_steps(n)
  local steps = 0
  while n ~= 1 do
    n = n % 2 == 0 and n // 2 or 3 * n + 1
    steps = steps + 1
  end
  return steps
end

local jobs = P.range(nil, 1, 30)           -- one source channel

-- fan-out: WORKERS goroutines take jobs from the same channel
local outs = {}
for w = 1, WORKERS do
  local out = chan()
  outs[w] = out
  go(function()
    for n in jobs:range() do
      out:send({ n = n, steps = collatz_steps(n), by = w })
    end
    out:close()
  end)
end

-- fan-in: one channel with everything, closed once every worker is done
local results = P.merge(nil, outs)

local all, per_worker = {}, {}
for r in results:range() do
  all[r.n] = r.steps
  per_worker[r.by] = (per_worker[r.by] or 0) + 1
end

local longest = 1
for n = 1, 30 do
  if all[n] > all[longest] then longest = n end
end
local line = {}
for n = 1, 30 do line[#line + 1] = string.format("%d:%d", n, all[n]) end
print(string.format("collatz steps for 1..30 computed by %d workers:", WORKERS))
for i = 1, 30, 10 do print("  " .. table.concat(line, " ", i, i + 9)) end
print(string.format("longest: %d takes %d steps", longest, all[longest]))
local total = 0
for w = 1, WORKERS do
  total = total + (per_worker[w] or 0)
  print(string.format("# worker %d handled %d jobs", w, per_worker[w] or 0))
end
print(string.format("jobs handled: %d of 30", total))

-- the same fan-out/fan-in in one line: an unordered parallel map
local sum = P.reduce(P.map_unordered(nil, P.range(nil, 1, 30), collatz_steps, WORKERS),
                     function(a, b) return a + b end, 0)
print("total steps (map_unordered): " .. sum)
