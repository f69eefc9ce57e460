-- UDP: a bound socket receives datagrams with their sender's address and
-- answers with sendto; a dialed (connected) one uses send and receive.
local net = go.net
local srv = assert(net.listen("udp", "127.0.0.1:0"))
local h, port = srv:getsockname()
local addr = h .. ":" .. port
go(function()
  for _ = 1, 2 do
    local data, from = srv:receivefrom()
    assert(srv:sendto(data:upper(), from))
  end
end)
local c = assert(net.dial("udp", addr))
assert(c:send("ping") == 4)
assert(c:receive() == "PING")
local other = assert(net.listen("udp", "127.0.0.1:0"))
local oh, op = other:getsockname()
assert(other:sendto("pong", addr))
local d, from = other:receivefrom(100)
assert(d == "PONG" and from == addr)
other:settimeout(0.02)
local x, err = other:receivefrom()
assert(x == nil and err == "timeout", "a datagram that never comes")
c:close(); other:close(); srv:close()
assert(oh and op)
