-- Channel errors are raised in the caller and are catchable:
-- send on closed, close of closed, sending nil, bad capacities, bad self.
local function expect_err(sub, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error containing '" .. sub .. "'")
  err = tostring(err)
  assert(err:find(sub, 1, true), ("error %q does not contain %q"):format(err, sub))
  return err
end

local c = chan(1)
c:close()
expect_err("send on closed channel", c.send, c, 1)
expect_err("send on closed channel", function() c:send("x") end)
expect_err("close of closed channel", c.close, c)
expect_err("close of closed channel", function() c:close() end)

local d = chan(1)
expect_err("cannot send nil on a channel", d.send, d, nil)
expect_err("cannot send nil on a channel", function() d:send(nil) end)
assert(#d == 0, "a failed send puts nothing in the channel")
d:send(1)
assert(d:recv() == 1, "the channel still works after an error")

local u = chan()
expect_err("cannot send nil on a channel", u.send, u, nil)

-- bad capacities
expect_err("bad argument", chan, -1)
expect_err("bad argument", chan, 1.5)
expect_err("bad argument", chan, "lots")
expect_err("bad argument", chan, {})
expect_err("bad argument", go.chan, -3)
expect_err("bad argument", go.chan, 0.25)

-- methods on something that is not a channel
expect_err("bad argument", d.send, {}, 1)
expect_err("bad argument", d.recv, 42)
expect_err("bad argument", d.close, "chan")
expect_err("bad argument", d.len, nil)
expect_err("bad argument", d.cap, io.stdout)

-- the same errors inside a goroutine are raised there, not in main
local res = chan(10)
go(function()
  local ok1, e1 = pcall(c.send, c, 1)
  local ok2, e2 = pcall(c.close, c)
  local ok3, e3 = pcall(d.send, d, nil)
  res:send(not ok1 and e1:find("send on closed channel", 1, true) ~= nil)
  res:send(not ok2 and e2:find("close of closed channel", 1, true) ~= nil)
  res:send(not ok3 and e3:find("cannot send nil on a channel", 1, true) ~= nil)
end)
for i = 1, 3 do assert(res:recv() == true, "goroutine check " .. i) end

-- close by one goroutine, send by another afterwards: the sender gets the error
do
  local e = chan()
  local closed = chan()
  go(function() e:close(); closed:send(true) end)
  closed:recv()
  expect_err("send on closed channel", e.send, e, 5)
end
