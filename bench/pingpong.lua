-- pingpong: two goroutines bounce an integer over two unbuffered channels.
-- Usage: lungo bench/pingpong.lua [N=1000000]. checksum must equal N.
local n = tonumber(arg and arg[1]) or 1000000
local ping, pong = chan(), chan()
go(function(pi, po)
  for v in pi:range() do po:send(v + 1) end
end, ping, pong)
local t0 = go.now()
local v = 0
for _ = 1, n do
  ping:send(v)
  v = pong:recv()
end
local el = go.now() - t0
ping:close()
print(string.format("pingpong n=%d ns_per_roundtrip=%.1f total_ms=%.1f checksum=%d check=%s",
  n, el * 1e9 / n, el * 1e3, v, v == n and "ok" or "WRONG"))
