-- A dial to a name tries each of its addresses in turn until one connects,
-- as Go's does (tests/slowdns.c: "x.multi.test" answers 127.0.0.2, where
-- nothing listens, then 127.0.0.1; "x.refuse.test" two addresses where
-- nothing listens). When none connects, the error is the first one's.
-- Needs the test binary's seam (LUNGO_TEST_SLOWDNS); the lungo command
-- alone has none, and skips.
if not os.getenv("LUNGO_TEST_SLOWDNS") then return end
local net = go.net

local ln = assert(net.listen("tcp4", "127.0.0.1:0"))
local port = ln:addr():match(":(%d+)$")
local served = chan(8)
go(function()
  while true do
    local c = ln:accept()
    if not c then return end
    local line = c:receive()
    c:send("echo " .. tostring(line) .. "\n")
    c:close()
    served:send(true)
  end
end)

-- from several goroutines at once, each on its own connection
local res = chan(4)
for i = 1, 4 do
  go(function()
    local c, err = net.dial("tcp", "h" .. i .. ".multi.test:" .. port, { timeout = 5 })
    if not c then res:send("dial: " .. tostring(err)) return end
    c:send("hello " .. i .. "\n")
    local line = c:receive()
    c:close()
    res:send(line)
  end)
end
local got = {}
for _ = 1, 4 do got[#got + 1] = res:recv() end
table.sort(got)
for i = 1, 4 do assert(got[i] == "echo hello " .. i, tostring(got[i])) end
for _ = 1, 4 do served:recv() end

-- the peer address is the second one
local c = assert(net.dial("tcp4", "z.multi.test:" .. port))
local ip, pport = c:getpeername()
assert(ip == "127.0.0.1" and tostring(pport) == port, tostring(ip) .. " " .. tostring(pport))
c:send("x\n")
assert(c:receive() == "echo x")
c:close()

-- none connects: nil and the first address's error
local c2, err = net.dial("tcp", "y.refuse.test:" .. port)
assert(c2 == nil and err == "Connection refused", tostring(err))

ln:close()
