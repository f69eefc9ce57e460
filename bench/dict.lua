-- dict: the cost of go.dict, the shared map, for a cache of N entries
-- (default 1 000 000) hit from every worker. One goroutine per worker
-- (placed by a burst, so they spread) fills its share of the keys, then
-- each does OPS mixed operations on random keys of the whole dict:
-- 80% get, 10% set, 10% incr. Figures: fill_ns_per_op and mixed_ns_per_op
-- are wall time per operation over all goroutines (operations in
-- parallel count once each, so with W workers this is total time / ops);
-- bytes_per_entry is the VmRSS growth while the second half of the keys
-- goes in, / (N/2) (keys "k<i>", values a 3-field record): by then the
-- shards' heaps reuse their own garbage, so the growth is the dict's, and
-- it includes the stripes' tables doubling (from N/2 to N, with the
-- default N), so it is the cost at N entries. atomic_ns_per_op: a:add(1) from every goroutine on
-- one atomic, the most contended case.
-- Usage: lungo bench/dict.lua [N=1000000] [OPS per goroutine=200000]
local n = tonumber(arg and arg[1]) or 1000000
local ops = tonumber(arg and arg[2]) or 200000
local W = math.max(go.workers(), 5)     -- a burst of five or more is spread out

local function rss_kb()
  local f = io.open("/proc/self/status")
  if not f then return 0 end
  local s = f:read("a")
  f:close()
  return tonumber(s:match("VmRSS:%s*(%d+)")) or 0
end

local d = go.dict()
local wg = go.waitgroup()
local function fill(from, to)
  wg:add(W)
  for w = 1, W do
    go(function()
      for i = from + w - 1, to, W do d:set("k" .. i, { id = i, name = "item", price = i * 0.5 }) end
      wg:done()
    end)
  end
  wg:wait()
end
local t0 = go.now()
fill(1, n // 2)
local rss0 = rss_kb()
fill(n // 2 + 1, n)
local rss1 = rss_kb()
local filled = go.now() - t0
assert(#d == n, #d)

local hits = go.atomic()
t0 = go.now()
wg:add(W)
for w = 1, W do
  go(function()
    local seed, got = w * 7919, 0
    for j = 1, ops do
      seed = (seed * 1103515245 + 12345) % 2147483648
      local k = "k" .. (seed % n + 1)
      local r = j % 10
      if r == 0 then d:set(k, { id = j, name = "new", price = 1.0 })
      elseif r == 1 then d:incr("counter" .. w, 1)
      elseif d:get(k) then got = got + 1 end
    end
    hits:add(got)
    wg:done()
  end)
end
wg:wait()
local mixed = go.now() - t0
local total = 0
for w = 1, W do total = total + d:get("counter" .. w) end
local ok = total == W * (ops // 10) and hits:load() == W * (ops - 2 * (ops // 10))

local a = go.atomic()
t0 = go.now()
wg:add(W)
for _ = 1, W do
  go(function() for _ = 1, ops do a:add(1) end wg:done() end)
end
wg:wait()
local at = go.now() - t0
ok = ok and a:load() == W * ops

print(string.format(
  "dict n=%d goroutines=%d fill_ns_per_op=%.1f mixed_ns_per_op=%.1f bytes_per_entry=%.1f atomic_ns_per_op=%.1f check=%s",
  n, W, filled * 1e9 / n, mixed * 1e9 / (W * ops), (rss1 - rss0) * 1024 / (n - n // 2),
  at * 1e9 / (W * ops), ok and "ok" or "WRONG"))
