-- A goroutine waiting for the network is a possible waker: main waiting
-- on a channel fed by a server that waits in accept is not a deadlock
-- (no timer is pending, no goroutine runnable), and the connection that
-- comes from outside the runtime (a shell) wakes it.
local net = go.net
local ln = assert(net.listen("tcp", "127.0.0.1:0"))
local port = ln:addr():match(":(%d+)$")
local got = chan()
go(function()
  local c = assert(ln:accept())
  got:send(c:receive("*l"))
  c:close()
  ln:close()
end)
assert(os.execute("bash -c 'sleep 0.2; exec 3<>/dev/tcp/127.0.0.1/" .. port ..
                  "; echo from-outside >&3' >/dev/null 2>&1 &"))
assert(got:recv() == "from-outside")
