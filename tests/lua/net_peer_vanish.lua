-- A peer that goes away mid-message: the receiver gets nil, "closed" and
-- the part it had; a peer that goes away with data unread resets the
-- connection, which is "closed" as well; sending to a vanished peer ends
-- with nil, "closed" (never SIGPIPE).
local net = go.net
local ln = assert(net.listen("tcp", "127.0.0.1:0"))
local addr = ln:addr()
local acc = chan(4)
go(function() for _ = 1, 3 do acc:send(ln:accept()) end ln:close() end)

-- 1. half a line, then gone
local c = assert(net.dial("tcp", addr))
local s = acc:recv()
go(function() s:send("half a li") s:close() end)
local d, err, partial = c:receive("*l")
assert(d == nil and err == "closed" and partial == "half a li", tostring(err) .. " " .. tostring(partial))
local d2, err2, part2 = c:receive(5)
assert(d2 == nil and err2 == "closed" and part2 == "")
c:close()

-- 2. a count not reached
local c2 = assert(net.dial("tcp", addr))
local s2 = acc:recv()
s2:send("abc")
s2:close()
local x, xe, xp = c2:receive(10)
assert(x == nil and xe == "closed" and xp == "abc")

-- 3. the peer closes with our data unread (a reset), then we send
local c3 = assert(net.dial("tcp", addr))
local s3 = acc:recv()
c3:send("never read\n")
go.sleep(0.01)
s3:close()
local sent, serr
for _ = 1, 200 do
  local n, e = c3:send(string.rep("z", 65536))
  if not n then serr = e break end
  go.sleep(0.001)
end
assert(serr == "closed", "send to a vanished peer: " .. tostring(serr))
local r, re = c3:receive("*a")
assert(r == "" or re == "closed")
c3:close()
