-- Closing a socket from another goroutine (on another worker when there
-- are several) wakes every operation blocked on it with nil, "closed" at
-- once: accept, receive, a receiver waiting for its turn, a send blocked
-- on a full buffer, and operations started after the close.
local net = go.net
local W = go.workers()
local ln = assert(net.listen("tcp", "127.0.0.1:0"))
local addr = ln:addr()
local out = chan(20)
local parked = go.waitgroup()

local function spawn(name, f)
  go(function() out:send({ name, f() }) end)
end

spawn("accept", function() return ln:accept() end)
local peerc = chan(1)
go(function()
  local c = assert(net.dial("tcp", addr))
  peerc:send(c)
end)
local server = out:recv()
assert(server[1] == "accept" and server[2], "accepted")
server = server[2]
local client = peerc:recv()

-- block them all, then close from a goroutine of its own (worker W if any)
spawn("recv1", function() return client:receive("*l") end)
spawn("recv2", function() return client:receive(10) end)
spawn("accept2", function() return ln:accept() end)
spawn("send", function()
  local big = string.rep("y", 1 << 20)
  while true do
    local n, err = client:send(big)    -- the server never reads
    if not n then return nil, err end
  end
end)
go.sleep(0.05)                -- (only lets them reach their waits; the result does not depend on it)
local closer = go(function()
  client:close()
  server:close()
  ln:close()
end)
local got = {}
for _ = 1, 4 do
  local r = out:recv()
  assert(r[2] == nil and r[3] == "closed", r[1] .. " got " .. tostring(r[3]))
  got[r[1]] = true
end
assert(got.recv1 and got.recv2 and got.accept2 and got.send)
local d, e = client:receive()
assert(d == nil and e == "closed", "after close: closed")
assert(closer > 0 and W >= 1)
