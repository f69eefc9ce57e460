-- go.net basics over 127.0.0.1: listen on a free port, accept, dial, the
-- receive patterns of LuaSocket ("*l" drops "\r\n", "*L" keeps "\n", "*a"
-- until EOF, a byte count, a prefix), receiveany, send of several pieces,
-- addresses and names, require "lungo.net", resolve, misuse raising.
local net = require "lungo.net"
assert(net == go.net, "require gives go.net")

local ln = assert(net.listen("tcp", "127.0.0.1:0"))
local addr = ln:addr()
local port = tonumber(addr:match("^127%.0%.0%.1:(%d+)$"))
assert(port and port > 0, "a free port: " .. addr)

local got = chan(10)
go(function()
  local c = assert(ln:accept())
  got:send({ c:getpeername() })
  assert(c:send("line one\r\n", "line two\n", "rest") == 23, "several pieces, one total")
  c:send("0123456789")
  c:send("more then eof")
  c:close()
end)

local c = assert(net.dial("tcp", addr))
local h, p, fam = c:getpeername()
assert(h == "127.0.0.1" and p == port and fam == "inet", "getpeername")
local lh, lp = c:getsockname()
local peer = got:recv()
assert(peer[1] == lh and peer[2] == lp, "the server sees the client's own address")

assert(c:receive("*l") == "line one", "*l drops \\r\\n")
assert(c:receive("L") == "line two\n", "L keeps \\n")
assert(c:receive(4) == "rest", "a count")
assert(c:receive(3, ">") == ">012", "a count with a prefix counts only what is read")
local any = c:receiveany(100)
assert(#any >= 1 and ("3456789more then eof"):sub(1, #any) == any, "receiveany: what there is")
local all = c:receive("*a")
assert(any .. all == "3456789more then eof", "*a until EOF")
assert(c:receive("*a") == "", "*a at EOF: empty")
local d, err, partial = c:receive("*l")
assert(d == nil and err == "closed" and partial == "", "after EOF: closed")
c:close()
local d2, err2 = c:receive()
assert(d2 == nil and err2 == "closed", "a closed conn: closed")
assert(select(2, c:send("x")) == "closed")

-- misuse raises, network failures return nil, err
assert(not pcall(net.listen, "carrier-pigeon", "x"), "an unknown network raises")
assert(not pcall(c.receive, c, "*x"), "a bad pattern raises")
assert(not pcall(c.send, c, {}), "a table is not data")
local n, e = net.dial("tcp", "127.0.0.1")
assert(n == nil and e:find("missing port"), e)
local n2, e2 = net.dial("tcp", "no.such.host.invalid:80")
assert(n2 == nil and type(e2) == "string", "a name that cannot resolve: nil, err")
local n3, e3 = net.listen("tcp", addr)
assert(n3 == nil and type(e3) == "string", "the port is taken: " .. tostring(e3))

local r = assert(net.resolve("localhost"))
assert(r[1] == "127.0.0.1", "localhost")
assert(net.resolve("::1")[1] == "::1")
assert(net.resolve("10.1.2.3")[1] == "10.1.2.3")

-- a refused connection
ln:close()
local x, xe = net.dial("tcp", addr)
assert(x == nil and type(xe) == "string", "refused: " .. tostring(xe))
assert(select(2, ln:accept()) == "closed", "accept on a closed listener")
assert(tostring(ln):match("^listener: ") and tostring(c):match("^conn: "))
