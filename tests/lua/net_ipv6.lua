-- IPv6 on ::1 ("tcp6", "[::1]:0"); skipped cleanly where the machine has
-- no IPv6 loopback.
local net = go.net
local ln, err = net.listen("tcp6", "[::1]:0")
if not ln then
  print("# no IPv6 loopback here: " .. tostring(err))
  return
end
local addr = ln:addr()
assert(addr:match("^%[::1%]:%d+$"), addr)
go(function() local s = assert(ln:accept()) s:send(s:receive("*l") .. "!\n") s:close() end)
local c = assert(net.dial("tcp6", addr))
local h, p, fam = c:getpeername()
assert(h == "::1" and fam == "inet6" and ("[::1]:" .. p) == addr)
c:send("six\n")
assert(c:receive("*l") == "six!")
c:close()
ln:close()
assert(net.dial("tcp4", addr) == nil, "a v6 address is no tcp4 address")
