-- settimeout is per operation and leaves the connection usable; setdeadline
-- is absolute on go.now()'s clock; a listener's timeout applies to accept;
-- a timeout of 0 never waits.
local net = go.net
local ln = assert(net.listen("tcp", "127.0.0.1:0"))
ln:settimeout(0.05)
local c0, e0 = ln:accept()
assert(c0 == nil and e0 == "timeout", "accept times out")
ln:settimeout(nil)

local sc = chan(1)
go(function() sc:send(assert(ln:accept())) end)
local c = assert(net.dial("tcp", ln:addr(), { timeout = 5 }))
local s = sc:recv()

c:settimeout(0.05)
s:send("partial")
local d, err, part = c:receive("*l")
assert(d == nil and err == "timeout" and part == "partial", "nil, timeout, partial")
s:send(" line\n")
assert(c:receive("*l") == " line", "usable after a timeout")

c:settimeout(0)
local d0, e0b = c:receive(1)
assert(d0 == nil and e0b == "timeout", "timeout 0: never waits")
s:send("z")
local t0 = go.now()
while true do             -- the byte arrives: a zero timeout then gets it
  local b = c:receive(1)
  if b then assert(b == "z") break end
  go.sleep(0.001)
  assert(go.now() - t0 < 30)
end
c:settimeout(nil)

c:setdeadline(go.now() + 0.05)
local d1, e1 = c:receive(1)
assert(d1 == nil and e1 == "timeout", "deadline passes")
local d2, e2 = c:receive(1)
assert(d2 == nil and e2 == "timeout", "a deadline in the past: at once")
c:setdeadline(nil)
s:send("k")
assert(c:receive(1) == "k", "deadline cleared")

-- a deadline and a timeout: the earlier wins
c:settimeout(100)
c:setdeadline(go.now() + 0.03)
assert(select(2, c:receive(1)) == "timeout")
c:setdeadline(nil)
c:settimeout(nil)

-- the turn wait counts: a receiver behind a blocked one times out too
local res = chan(2)
go(function() res:send({ c:receive("*l") }) end)
go.sleep(0.01)
go(function() c:settimeout(0.05) res:send({ c:receive("*l") }) end)
local r = res:recv()
assert(r[1] == nil and r[2] == "timeout", "a receiver waiting for its turn times out")
c:settimeout(nil)
s:send("for the first\n")
r = res:recv()
assert(r[1] == "for the first")

c:close(); s:close(); ln:close()
