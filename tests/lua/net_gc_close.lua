-- A socket closes when nothing holds it any more: once every proxy of it
-- has been collected, the peer sees the end of the stream. A socket that
-- travels (a channel, a goroutine's upvalue) is the same socket there.
local net = go.net
local ln = assert(net.listen("tcp", "127.0.0.1:0"))
local addr = ln:addr()
local peer = chan(1)
go(function()
  do
    local c = assert(net.dial("tcp", addr))
    c:send("bye\n")
  end                                   -- c is out of scope: garbage
  collectgarbage()
  collectgarbage()
  peer:send("dropped")
end)
local s = assert(ln:accept())
assert(peer:recv() == "dropped")
assert(s:receive("*l") == "bye")
local d, err = s:receive("*a")
assert(d == "", "the dropped socket was closed: EOF (" .. tostring(err) .. ")")
s:close()

-- travelling by reference: another goroutine (maybe on another worker)
-- writes to the same conn, and the conn it receives is the same value
local c = assert(net.dial("tcp", addr))
local s2 = assert(ln:accept())
local back = chan(1)
go(function(conn) conn:send("from elsewhere\n") back:send(conn) end, c)
assert(s2:receive("*l") == "from elsewhere")
assert(back:recv() == c, "the same proxy in this goroutine")
c:close(); s2:close(); ln:close()
