-- Host names (not numeric, not "localhost") are looked up with getaddrinfo
-- on the blocking-call pool's DNS lane while the goroutine parks: net.resolve
-- returns their addresses, net.dial connects to the first. Names come from
-- /etc/hosts (one mapped to 127.0.0.1 other than localhost, as a container
-- or Debian's hostname line); without one, that part is skipped. A name that
-- does not exist gives nil and Go's "lookup <name>: ..." message.
local net = go.net

local name
for line in io.lines("/etc/hosts") do
  local ip, rest = line:match("^%s*([%x%.:]+)%s+([^#]*)")
  if ip == "127.0.0.1" and not name then
    for n in rest:gmatch("%S+") do
      if n ~= "localhost" and not name then name = n end
    end
  end
end

-- several goroutines looking up at once, on every worker
if name then
  local res = chan(8)
  for _ = 1, 8 do
    go(function()
      local t, err = net.resolve(name)
      res:send(t and table.concat(t, ",") or err)
    end)
  end
  for _ = 1, 8 do
    local r = res:recv()
    assert(r:find("127.0.0.1", 1, true), "resolve " .. name .. ": " .. r)
  end

  -- dial by name
  local ln = assert(net.listen("tcp4", "127.0.0.1:0"))
  local port = ln:addr():match(":(%d+)$")
  go(function()
    local c = ln:accept()
    c:send("echo " .. c:receive() .. "\n")
    c:close()
  end)
  local c = assert(net.dial("tcp", name .. ":" .. port, { timeout = 5 }))
  assert(c:send("x\n") == 2)
  assert(c:receive() == "echo x")
  c:close()
  ln:close()
end

-- a name that does not exist (in the test binary, one its getaddrinfo
-- seam fails at once: tests/slowdns.c; alone, one DNS must refuse)
local bad = os.getenv("LUNGO_TEST_SLOWDNS") and "no-such-host.fail.test" or "no-such-host.invalid"
local pat = "^lookup " .. bad:gsub("%p", "%%%0") .. ": "
local t, err = net.resolve(bad)
assert(t == nil and err:find(pat), tostring(err))
local c, err2 = net.dial("tcp", bad .. ":80")
assert(c == nil and err2:find(pat), tostring(err2))

-- numeric hosts and localhost never wait: they resolve where Lua cannot
-- suspend; a name there raises the "cannot block" error
local ok, e = pcall(table.sort, { 2, 1 }, function(a, b)
  assert(net.resolve("127.0.0.1")[1] == "127.0.0.1")
  return a < b
end)
assert(ok, e)
ok, e = pcall(table.sort, { 2, 1 }, function(a, b) net.resolve(bad) return a < b end)
assert(not ok and e:find("cannot block in net.resolve", 1, true), e)
