-- lungo.pipeline: an ordered map keeps the input order with 4 parallel
-- workers whatever order they finish in; the unordered one keeps the items.
local P = require "lungo.pipeline"
local base = go.count()

local function settle()
  for _ = 1, 5000 do
    if go.count() == base then return end
    go.sleep(0.001)
  end
  error("goroutines left behind: " .. go.count() .. " alive, expected " .. base)
end

-- uneven work: item i sleeps or yields a scrambled amount, so later items
-- often finish before earlier ones
local function slow_square(x)
  local k = (x * 7919) % 7
  if k == 0 then go.sleep(0.002) else for _ = 1, k * 3 do go.yield() end end
  return { x = x, sq = x * x, worker = go.worker() }
end

local N = 300
for _, window in ipairs({ 4, 16, 1000 }) do
  local out = P.map(nil, P.range(nil, N), slow_square, { workers = 4, window = window })
  local i = 0
  for r in P.iter(out) do
    i = i + 1
    assert(r.x == i and r.sq == i * i, ("window %d: item %d arrived at %d"):format(window, r.x, i))
  end
  assert(i == N, "ordered map lost items: " .. i)
end

-- ordered filter with 4 workers
local kept = P.collect(P.filter(nil, P.range(nil, N), function(x)
  slow_square(x)
  return x % 3 == 0
end, 4))
assert(#kept == N // 3)
for i, v in ipairs(kept) do assert(v == 3 * i, "ordered filter out of order") end

-- unordered: every item exactly once
local got = P.collect(P.map_unordered(nil, P.range(nil, N), slow_square, 4))
assert(#got == N)
local seen = {}
for _, r in ipairs(got) do
  assert(not seen[r.x], "duplicate " .. r.x)
  seen[r.x] = true
end
for i = 1, N do assert(seen[i], "missing " .. i) end

-- ordered map of ordered map, with dropped items (nil results) in between
local chain = P.map(nil, P.map(nil, P.range(nil, N), function(x)
  slow_square(x)
  if x % 5 ~= 0 then return x end
end, 4), function(x) return -x end, 4)
local prev = 0
local count = 0
for v in P.iter(chain) do
  assert(-v > prev and (-v) % 5 ~= 0, "chained ordered maps out of order")
  prev, count = -v, count + 1
end
assert(count == N - N // 5)

-- ordered stream with many workers and a tiny window
local s = P.stream(P.range(nil, 100)):map(function(x) slow_square(x) return x end, { workers = 8, window = 2 }):collect()
for i = 1, 100 do assert(s[i] == i) end

settle()
