-- go.select: every case kind (receive, {ch, v} send, nil, {nil, v},
-- go.default), positions kept by nil cases, default only when nothing is
-- ready, duplicate channels, send and receive on one channel, values of
-- every copyable type, hand-offs with blocked partners, close while
-- selecting, send on closed, and argument errors.

local function nret(...) return select("#", ...), ... end

local function errmsg(f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error")
  return tostring(err)
end

local function has(s, sub) return s:find(sub, 1, true) ~= nil end

-- Waits (yielding) until f() is true; bounded so a bug fails instead of hanging.
local function eventually(f, what)
  local t0 = go.now()
  while not f() do
    assert(go.now() - t0 < 20, "timed out waiting for " .. what)
    go.yield()
  end
end

-- ---- receive case ----
do
  local c = chan(1)
  c:send("x")
  local n, i, v, ok = nret(go.select(c))
  assert(n == 3 and i == 1 and v == "x" and ok == true, "receive case returns i, v, true")
  assert(#c == 0)
end

-- ---- send case ----
do
  local c = chan(1)
  local n, i, v, ok = nret(go.select({c, 42}))
  assert(n == 3 and i == 1 and v == nil and ok == true, "send case returns i, nil, true")
  assert(#c == 1 and c:recv() == 42)
end

-- ---- false is a value, not a missing one ----
do
  local c = chan(1)
  assert(go.select({c, false}) == 1)
  local i, v, ok = go.select(c)
  assert(i == 1 and v == false and ok == true)
end

-- ---- receive on a closed channel: ready, nil, false ----
do
  local c = chan(2)
  c:send(1)
  c:close()
  local i, v, ok = go.select(c)
  assert(i == 1 and v == 1 and ok == true, "buffered value still delivered after close")
  for _ = 1, 3 do
    local n
    n, i, v, ok = nret(go.select(c))
    assert(n == 3 and i == 1 and v == nil and ok == false, "closed and drained: nil, false")
  end
  -- closed is ready, so default is not chosen
  i, v, ok = go.select(c, go.default)
  assert(i == 1 and v == nil and ok == false)
  i, v, ok = go.select(go.default, nil, c)
  assert(i == 3 and v == nil and ok == false)
end

-- ---- nil cases keep positions ----
do
  local c = chan(1)
  c:send("v")
  local i, v, ok = go.select(nil, {nil, 5}, c)
  assert(i == 3 and v == "v" and ok == true, "nil cases never chosen, positions stable")
  i, v, ok = go.select(nil, nil, nil, {c, "w"}, {nil, "z"})
  assert(i == 4 and v == nil and ok == true)
  assert(c:recv() == "w")
  -- a nil case among ready ones is never chosen
  for _ = 1, 200 do
    c:send(1)
    i = go.select(nil, c, {nil, 2}, nil)
    assert(i == 2)
  end
end

-- ---- go.default ----
do
  -- nothing at all: default
  local n, i = nret(go.select(go.default))
  assert(n == 1 and i == 1, "default alone returns just its position")
  n, i = nret(go.select(nil, {nil, 1}, go.default))
  assert(n == 1 and i == 3)

  local u = chan()            -- unbuffered, no partner: never ready
  local e = chan(2)           -- buffered, empty: receive not ready
  local f = chan(1)           -- buffered, full: send not ready
  f:send("full")
  for _ = 1, 100 do
    n, i = nret(go.select(u, {u, 1}, e, {f, 2}, go.default))
    assert(n == 1 and i == 5, "default chosen when nothing is ready")
    n, i = nret(go.select(go.default, u, {u, 1}, e, {f, 2}))
    assert(n == 1 and i == 1, "default may be in any position")
  end
  assert(#e == 0 and #f == 1 and f:recv() == "full", "nothing sent or taken by a default select")

  -- something ready: never default
  local r = chan(1)
  for k = 1, 300 do
    r:send(k)
    local v, ok
    i, v, ok = go.select(go.default, u, r)
    assert(i == 3 and v == k and ok == true, "ready case preferred over default")
  end
  for _ = 1, 300 do
    i = go.select(go.default, {e, "s"}, u)
    assert(i == 2, "ready send case preferred over default")
    assert(e:recv() == "s")
  end
end

-- ---- duplicate channels in several cases ----
do
  local c = chan(1)
  local seen = {}
  for k = 1, 400 do
    c:send(k)
    local i, v, ok = go.select(c, c, nil, c)
    assert((i == 1 or i == 2 or i == 4) and v == k and ok == true)
    seen[i] = true
    assert(#c == 0, "one value taken once")
  end
  assert(seen[1] and seen[2] and seen[4], "every duplicate position can be chosen")

  -- duplicate send cases: one value sent, from the chosen case
  local d = chan(3)
  seen = {}
  for _ = 1, 400 do
    local i = go.select({d, "a"}, {d, "b"}, {d, "c"})
    local v = d:recv()
    assert(#d == 0, "exactly one send happened")
    assert(v == ({"a", "b", "c"})[i], "the chosen case's value was sent")
    seen[i] = true
  end
  assert(seen[1] and seen[2] and seen[3])
end

-- ---- send and receive cases on the same channel ----
do
  local c = chan(1)
  local i, v, ok = go.select(c, {c, 5})
  assert(i == 2 and v == nil and ok == true, "empty buffer: only the send is ready")
  i, v, ok = go.select(c, {c, 6})
  assert(i == 1 and v == 5 and ok == true, "full buffer: only the receive is ready")

  -- capacity 2 with one value: both ready, both get chosen over time
  local c2 = chan(2)
  c2:send(0)
  local seen = {}
  for _ = 1, 300 do
    i = go.select(c2, {c2, 0})
    seen[i] = true
    assert(#c2 == (i == 1 and 0 or 2))
    if i == 1 then c2:send(0) else c2:recv() end
  end
  assert(seen[1] and seen[2])

  -- unbuffered: a select cannot hand a value to itself
  local u = chan()
  for _ = 1, 50 do
    local n
    n, i = nret(go.select(u, {u, 1}, go.default))
    assert(n == 1 and i == 3, "a select does not pair with itself")
  end

  -- ... but pairs with a plain partner
  local done = chan(1)
  go(function() done:send(u:recv()) end)
  i, v, ok = go.select(u, {u, "to-partner"})
  assert(i == 2 and v == nil and ok == true)
  assert(done:recv() == "to-partner")
  go(function() u:send("from-partner") end)
  i, v, ok = go.select(u, {u, "unused"})
  assert(i == 1 and v == "from-partner" and ok == true)

  -- two goroutines each selecting both directions pair with each other
  for round = 1, 30 do
    local res = chan(2)
    for id = 1, 2 do
      go(function()
        local ci, cv = go.select(u, {u, id * 100 + round})
        res:send({ci, cv, id})
      end)
    end
    local a, b = res:recv(), res:recv()
    if a[1] == 2 then a, b = b, a end
    assert(a[1] == 1 and b[1] == 2, "one received, the other sent")
    assert(a[2] == b[3] * 100 + round, "the receiver got the sender's value")
  end
end

-- ---- values of every copyable type through select (send and receive) ----
do
  local c = chan(1)
  local function through(v)
    assert(go.select({c, v}) == 1)
    local i, r, ok = go.select(nil, c)
    assert(i == 2 and ok == true)
    return r
  end

  assert(through(true) == true and through(false) == false)
  local iv = through(123)
  assert(iv == 123 and math.type(iv) == "integer")
  iv = through(math.mininteger)
  assert(iv == math.mininteger and math.type(iv) == "integer")
  local fv = through(1.0)
  assert(fv == 1.0 and math.type(fv) == "float", "float subtype kept")
  fv = through(-0.5)
  assert(fv == -0.5)
  assert(through(math.huge) == math.huge and through(-math.huge) == -math.huge)
  local nan = through(0 / 0)
  assert(nan ~= nan, "NaN stays NaN")
  local bin = "a\0b\255\n" .. string.rep("z", 5000)
  assert(through(bin) == bin, "binary-safe strings")
  assert(through("") == "")

  -- tables: deep copies, shape and metatables kept
  local mt = {__index = function(_, k) return "mt:" .. k end}
  local shared = {s = 1}
  local t = setmetatable({1, 2, {3, {4}}, name = "n", a = shared, b = shared, [2.5] = "f"}, mt)
  t.self = t
  local r = through(t)
  assert(r ~= t, "a copy, not the same table")
  assert(r[1] == 1 and r[2] == 2 and r[3][1] == 3 and r[3][2][1] == 4 and r.name == "n")
  assert(r[2.5] == "f")
  assert(r.self == r, "cycles kept")
  assert(r.a == r.b and r.a ~= shared, "shared sub-tables kept shared")
  assert(r.missing == "mt:missing", "metatable came along")
  r.name = "changed"; r[3][1] = 99
  assert(t.name == "n" and t[3][1] == 3, "mutating the copy leaves the original")
  t.name = "orig2"
  assert(r.name == "changed")

  -- functions with upvalues (by value), C functions, channels (identity)
  local up = 10
  local f = function(x) return x + up end
  local g = through(f)
  assert(g ~= f and g(1) == 11)
  up = 20
  assert(f(1) == 21 and g(1) == 11, "upvalues copied by value")
  assert(through(string.upper)("abc") == "ABC")
  local other = chan(3)
  assert(through(other) == other, "channels keep their identity")
  assert(through(c) == c, "a channel through itself")
  local tc = through({ch = other, list = {other, other}})
  assert(tc.ch == other and tc.list[1] == other and tc.list[2] == other)

  -- and across goroutines, unbuffered, select on both ends
  local u = chan()
  local back = chan()
  go(function()
    for _ = 1, 6 do
      local i, v, ok = go.select(nil, u)
      assert(i == 2 and ok)
      if type(v) == "table" then v.seen = true end
      assert(go.select({nil, 0}, {back, v}) == 2)
    end
  end)
  local vals = {true, 7, 7.5, "s", {k = {1, 2}}, function() return "fn" end}
  for k = 1, 6 do
    local v = vals[k]
    assert(go.select({u, v}, nil) == 1)
    local _, rv, ok = go.select(back)
    assert(ok)
    if type(v) == "table" then
      assert(rv ~= v and rv.k[2] == 2 and rv.seen == true and v.seen == nil)
    elseif type(v) == "function" then
      assert(rv() == "fn")
    else
      assert(rv == v and math.type(rv) == math.type(v))
    end
  end
end

-- ---- a select send completing an unbuffered hand-off with a blocked receiver ----
do
  local u = chan()
  local got = chan(1)
  go(function()
    local v, ok = u:recv()
    got:send({v, ok})
  end)
  -- an unbuffered send is ready only once the receiver is blocked
  local i
  eventually(function()
    i = go.select({u, {payload = "hi"}}, go.default)
    return i == 1
  end, "the receiver to block")
  local r = got:recv()
  assert(r[1].payload == "hi" and r[2] == true)

  -- and the reverse: a select receive taking from a blocked sender
  local sent = chan(1)
  go(function()
    u:send("from blocked sender")
    sent:send(true)
  end)
  local v, ok
  eventually(function()
    i, v, ok = go.select(u, go.default)
    return i == 1
  end, "the sender to block")
  assert(v == "from blocked sender" and ok == true)
  assert(sent:recv() == true)

  -- blocking select send to a receiver blocked in a select
  local res = chan(1)
  go(function()
    local ci, cv, cok = go.select(nil, u, {nil, 1})
    res:send({ci, cv, cok})
  end)
  assert(go.select({nil, 1}, {u, 99}) == 2)
  r = res:recv()
  assert(r[1] == 2 and r[2] == 99 and r[3] == true)
end

-- ---- close while selecting ----
do
  local a, b = chan(), chan()
  local res = chan(10)
  for k = 1, 10 do
    go(function()
      local i, v, ok = go.select(b, nil, a, {nil, k})
      res:send({i, v, ok})
    end)
  end
  go.sleep(0.005)
  a:close()
  for _ = 1, 10 do
    local r = res:recv()
    assert(r[1] == 3 and r[2] == nil and r[3] == false, "blocked select woken by close: nil, false")
  end

  -- a blocked send case on a channel that gets closed raises
  local s = chan()
  local errs = chan(5)
  for k = 1, 5 do
    go(function()
      local ok, err = pcall(go.select, {s, k}, b)
      errs:send(not ok and has(tostring(err), "send on closed channel"))
    end)
  end
  go.sleep(0.005)
  s:close()
  for _ = 1, 5 do assert(errs:recv() == true, "blocked select send raised on close") end
end

-- ---- send on closed raises, even with default ----
do
  local c = chan(1)
  c:close()
  assert(has(errmsg(go.select, {c, 1}), "send on closed channel"))
  assert(has(errmsg(go.select, {c, 1}, go.default), "send on closed channel"))
  assert(has(errmsg(go.select, go.default, nil, {c, 1}), "send on closed channel"))
  assert(has(errmsg(go.select, {nil, 1}, {c, 1}, nil), "send on closed channel"))
  local u = chan()
  u:close()
  assert(has(errmsg(go.select, {u, "x"}, go.default), "send on closed channel"))
end

-- ---- errors ----
do
  local c = chan(2)
  local bad = {1, 2.5, "str", true, false, function() end, {1, 2}, {"x", 1}, {{}, 1},
               {true, 1}, io.tmpfile(), coroutine.create(function() end)}
  for k, b in ipairs(bad) do
    local m = errmsg(go.select, c, b)
    assert(has(m, "bad argument"), ("case %d: %s"):format(k, m))
    assert(has(m, "#2"), "the argument position is named: " .. m)
  end
  local m = errmsg(go.select, go.default, go.default)
  assert(has(m, "bad argument"), m)
  m = errmsg(go.select, io.tmpfile())
  assert(has(m, "bad argument"), m)

  -- nil send values
  for _, case in ipairs({{c}, {c, nil}, {}, {nil, nil}}) do
    m = errmsg(go.select, case)
    assert(has(m, "cannot send nil on a channel"), m)
    m = errmsg(go.select, case, go.default)
    assert(has(m, "cannot send nil on a channel"), m)
  end

  -- a value that cannot be copied
  m = errmsg(go.select, {c, {f = io.tmpfile()}})
  assert(has(m, "cannot copy userdata"), m)

  -- a failing select sends nothing, even from its valid cases
  assert(#c == 0)
  errmsg(go.select, {c, 1}, "bad")
  errmsg(go.select, {c, 1}, {c})
  errmsg(go.select, {c, 1}, {c, {io.tmpfile()}})
  assert(#c == 0, "nothing was sent by a select that raised")
  c:send("keep")
  errmsg(go.select, c, 42)
  assert(#c == 1 and c:recv() == "keep", "nothing was taken by a select that raised")
end

-- the error is catchable and the goroutine goes on working
do
  local c = chan(1)
  local ok = pcall(go.select, {c})
  assert(not ok)
  assert(go.select({c, 1}) == 1 and c:recv() == 1)
end

-- ---- a select that must wait, sending a plain value or a table ----
-- (plain values are polled on the worker's scratch state and move to a
-- state of their own to wait; tables take that state from the start)
do
  local u = chan()
  local got = chan(4)
  go(function(c, out)
    for _ = 1, 4 do
      go.sleep(0.001)                 -- the selects below are parked by now
      out:send(c:recv())
    end
  end, u, got)
  local never = chan()
  assert(go.select(never, {u, 7}) == 2)
  assert(got:recv() == 7)
  assert(go.select({u, {k = "v"}}, never) == 1)
  assert(got:recv().k == "v")
  assert(go.select({nil, 1}, {u, "s"}) == 2)
  assert(got:recv() == "s")
  assert(go.select({u, function() return 5 end}) == 1)
  assert(got:recv()() == 5)
end
