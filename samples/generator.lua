-- Generators: a goroutine that produces values on a channel, Go style, and
-- the same with lungo.pipeline, next to the plain-Lua coroutine version.
-- Run: lungo samples/generator.lua
local P = require "lungo.pipeline"

-- 1. By hand: a function that returns a channel fed by a goroutine. The
--    consumer closes `done` when it has had enough, so the goroutine ends.
local function fibonacci(done)
  local out = chan()
  go(function()
    local a, b = 0, 1
    while true do
      if go.select({ out, a }, done) == 2 then break end   -- done closed: stop
      a, b = b, a + b
    end
    out:close()
  end)
  return out
end

local done = chan()
local fib = fibonacci(done)
local first = {}
for _ = 1, 15 do first[#first + 1] = fib:recv() end
done:close()
print("fibonacci:  " .. table.concat(first, " "))

-- 2. lungo.pipeline's generator: emit(v) sends, and unwinds the function
--    once the pipeline is cancelled.
local ctx = P.context()
local collatz = P.generator(ctx, function(emit, n)
  while n ~= 1 do
    emit(n)
    n = n % 2 == 0 and n // 2 or 3 * n + 1
  end
  emit(1)
end, 27)
local steps = P.collect(collatz)
print(string.format("collatz 27: %d steps, peak %d, starts %s",
                    #steps - 1, math.max(table.unpack(steps)), table.concat(steps, " ", 1, 8)))

-- 3. Sources from a table, a numeric range and a Lua iterator
print("from table: " .. table.concat(P.collect(P.from(ctx, { "do", "re", "mi" })), " "))
print("range:      " .. table.concat(P.collect(P.range(ctx, 10, 1, -3)), " "))
local words = {}
for _, pair in ipairs(P.collect(P.generate(ctx, ipairs({ "alpha", "beta", "gamma" })))) do
  words[#words + 1] = pair[1] .. "=" .. pair[2]        -- an iterator's values come packed
end
print("iterator:   " .. table.concat(words, " "))

-- 4. An endless generator, cut short: take 5, then cancel the context
local squares = P.map(ctx, P.range(ctx, 1, math.huge), function(x) return x * x end)
print("squares:    " .. table.concat(P.collect(P.take(ctx, squares, 5)), " "))
ctx:cancel()

-- 5. Plain Lua: coroutines still work inside any goroutine
local result = chan()
go(function()
  local gen = coroutine.wrap(function()
    for i = 1, 5 do coroutine.yield(i * i * i) end
  end)
  local cubes = {}
  for v in gen do cubes[#cubes + 1] = v end
  result:send(table.concat(cubes, " "))
end)
print("cubes (coroutine in a goroutine): " .. result:recv())
