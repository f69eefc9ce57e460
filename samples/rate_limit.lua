-- Rate limiting with go.ticker, as in Go by Example: one request per tick,
-- then a limiter that allows bursts of 3.
-- Run: lungo samples/rate_limit.lua
local INTERVAL = 0.02          -- 50 requests per second

-- 1. Every request waits for the next tick
local requests = chan(5)
for i = 1, 5 do requests:send(i) end
requests:close()

local t0 = go.now()
local ticker = go.ticker(INTERVAL)
for req in requests:range() do
  ticker:recv()
  print(string.format("request %d served", req))
  print(string.format("# at %.3f s", go.now() - t0))
end
ticker:close()                 -- closing a ticker's channel stops it
local elapsed = go.now() - t0
print(string.format("5 requests took at least 5 ticks (%.0f ms): %s", 5 * INTERVAL * 1000,
                    elapsed >= 5 * INTERVAL - 1e-6 and "yes" or "NO"))
print(string.format("# elapsed %.3f s", elapsed))

-- 2. A bursty limiter: a buffered channel of tokens, filled with 3 to
--    start with and topped up by a ticker. The first 3 requests go at
--    once, then one per tick. Tokens say where they came from.
local tokens = chan(3)
for _ = 1, 3 do tokens:send("burst") end
local stop = chan()
local refill = go.ticker(INTERVAL)
go(function()                  -- the refiller: a tick becomes a token
  for _ in refill:range() do
    if go.select({ tokens, "tick" }, stop) == 2 then break end
  end
end)

t0 = go.now()
for req = 1, 6 do
  local token = tokens:recv()
  print(string.format("bursty request %d served with a %s token", req, token))
  print(string.format("# at %.3f s", go.now() - t0))
end
refill:close()                 -- stops the ticker and ends the refiller's loop
stop:close()                   -- or frees it if it is waiting to add a token
