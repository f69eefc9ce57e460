-- split: an array of N integers split into C chunks for C goroutines that
-- each sum their chunk and send the sum back; R rounds. Each round builds
-- the chunks (table.move into a new table) and spawns one goroutine per
-- chunk with its chunk as argument, so every element is copied once by
-- table.move and once by the copier. Figures: round_ms (median round),
-- ns_per_element (median round / N), serial_ms (the same sums in one
-- loop, no goroutines). Same shape as bench/go/split.
-- Usage: lungo bench/split.lua [N=1000000] [C=16] [R=10]
local n = tonumber(arg and arg[1]) or 1000000
local c = tonumber(arg and arg[2]) or 16
local rounds = tonumber(arg and arg[3]) or 10

local a = {}
for i = 1, n do a[i] = i end

local function sum(chunk, out)
  local s = 0
  for i = 1, #chunk do s = s + chunk[i] end
  out:send(s)
end

local out = chan(c)
local times, ok = {}, true
for _ = 1, rounds do
  local t0 = go.now()
  for k = 0, c - 1 do
    local lo, hi = k * n // c + 1, (k + 1) * n // c
    go(sum, table.move(a, lo, hi, 1, {}), out)
  end
  local total = 0
  for _ = 1, c do total = total + out:recv() end
  times[#times + 1] = go.now() - t0
  ok = ok and total == n * (n + 1) // 2
end
table.sort(times)
local med = times[(#times + 1) // 2]
local t0, s = go.now(), 0
for i = 1, n do s = s + a[i] end
local serial = go.now() - t0
print(string.format("split n=%d chunks=%d rounds=%d round_ms=%.2f ns_per_element=%.2f serial_ms=%.2f check=%s",
  n, c, rounds, med * 1e3, med * 1e9 / n, serial * 1e3,
  (ok and s == n * (n + 1) // 2) and "ok" or "WRONG"))
