-- expect-status: exit
-- expect-exit: 3
-- os.exit while goroutines wait in accept, in receive (some with a
-- deadline armed) and for a turn: the runtime is destroyed with sockets
-- still open and waits queued; nothing is woken once the goroutines are
-- gone, every fd and record is freed (ASan and valgrind see no leak).
local net = go.net
local ln = assert(net.listen("tcp", "127.0.0.1:0"))
local sc = chan(1)
go(function() sc:send(ln:accept()) end)
local c = assert(net.dial("tcp", ln:addr()))
local s = sc:recv()
go(function() ln:accept() end)
go(function() c:receive("*l") end)
go(function() c:settimeout(100) c:receive("*l") end)
go(function() s:settimeout(100) s:receive(10) end)
go(function() s:setdeadline(go.now() + 100) s:receive(5) end)
go.sleep(0.05)
os.exit(3)
