-- sieve: the classic concurrent prime sieve (a daisy chain of filter
-- goroutines); prints the Nth prime. Clean shutdown: main closes quit, the
-- generator closes its channel, the close cascades down the filters and
-- main drains the last channel. Usage: lungo bench/sieve.lua [N=2000]
local n = tonumber(arg and arg[1]) or 2000

local function generate(ch, quit)
  local i = 2
  while true do
    local which = go.select({ch, i}, quit)
    if which == 2 then
      ch:close()
      return
    end
    i = i + 1
  end
end

local function filter(inc, out, prime)
  for v in inc:range() do
    if v % prime ~= 0 then out:send(v) end
  end
  out:close()
end

-- the Nth prime, by trial division, for the check
local function nth_prime(k)
  local c, p = 0, 1
  while c < k do
    p = p + 1
    local isp = true
    for d = 2, math.floor(math.sqrt(p)) do
      if p % d == 0 then isp = false; break end
    end
    if isp then c = c + 1 end
  end
  return p
end

local t0 = go.now()
local quit = chan()
local ch = chan()
go(generate, ch, quit)
local prime = 0
for _ = 1, n do
  prime = ch:recv()
  local ch1 = chan()
  go(filter, ch, ch1, prime)
  ch = ch1
end
local el = go.now() - t0
quit:close()
for _ in ch:range() do end
print(string.format("sieve n=%d prime=%d total_ms=%.1f check=%s",
  n, prime, el * 1e3, prime == nth_prime(n) and "ok" or "WRONG"))
