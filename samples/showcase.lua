-- A small pipeline spread over every worker: a generator, a pool of
-- squaring stages (one goroutine per worker and then some), and a summer.
-- Run: lungo samples/showcase.lua [items]
local N = tonumber(arg and arg[1]) or 100000
local STAGES = go.workers() * 2

local numbers = chan(64)
local squares = chan(64)
local done = chan()

go(function()                       -- generator
  for i = 1, N do numbers:send(i) end
  numbers:close()
end)

for _ = 1, STAGES do                -- squaring stages, fanned out
  go(function()
    for n in numbers:range() do
      squares:send({ value = n * n, worker = go.worker() })
    end
    done:send(true)
  end)
end

go(function()                       -- closes squares once every stage is done
  for _ = 1, STAGES do done:recv() end
  squares:close()
end)

local sum, per_worker = 0, {}
for item in squares:range() do
  sum = sum + item.value
  per_worker[item.worker] = (per_worker[item.worker] or 0) + 1
end

local expected = N * (N + 1) * (2 * N + 1) // 6
print(string.format("sum of squares 1..%d = %d (%s)", N, sum,
                    sum == expected and "correct" or "WRONG, expected " .. expected))
print(string.format("# %d stages on %d workers; items squared per worker:", STAGES, go.workers()))
for w = 1, go.workers() do
  print(string.format("#   worker %d: %d", w, per_worker[w] or 0))
end
