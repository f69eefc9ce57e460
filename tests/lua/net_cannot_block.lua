-- Where Lua cannot suspend (a table.sort comparator, a string.gsub
-- callback, __gc, require), an I/O call that would wait raises the
-- "cannot block" error; one that completes at once still works, and the
-- connection stays usable (a receive keeps what it had buffered).
local net = go.net
local ln = assert(net.listen("tcp", "127.0.0.1:0"))
local sc = chan(1)
go(function() sc:send(assert(ln:accept())) end)
local c = assert(net.dial("tcp", ln:addr()))
local s = sc:recv()

local ok, err = pcall(table.sort, {1, 2, 3}, function(a, b)
  c:receive("*l")                 -- nothing to read: would wait
  return a < b
end)
assert(not ok and err:find("cannot block in conn:receive"), tostring(err))

s:send("ready\nparted")
go.sleep(0.02)
local got
table.sort({2, 1}, function(a, b)
  got = got or c:receive("*l")    -- there: completes at once
  return a < b
end)
assert(got == "ready")
ok, err = pcall(string.gsub, "x", "x", function() return c:receive("*l") end)
assert(not ok and err:find("cannot block"), tostring(err))
s:send(" line\n")
assert(c:receive("*l") == "parted line", "the buffered part was kept")

ok, err = pcall(table.sort, {1, 2}, function(a, b) ln:accept() return a < b end)
assert(not ok and err:find("cannot block in ln:accept"), tostring(err))
go(function() sc:send(assert(ln:accept())) end)   -- the listener still works
local c2 = assert(net.dial("tcp", ln:addr()))
assert(sc:recv())
c:close(); s:close(); c2:close(); ln:close()
