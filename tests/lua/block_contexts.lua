-- Blocking where Lua 5.4 can suspend must work: inside pcall/xpcall (also
-- pcall(pcall, ...)), metamethods run by Lua code (__index, __newindex,
-- __add, __unm, __len, __concat, __call, __eq, __lt, __le), generic-for
-- iterators, deep recursion, nested coroutines. In main and in a goroutine.
local function suite(tag)
  local feed = chan()
  go(function()
    local i = 0
    while true do
      i = i + 1
      if not pcall(feed.send, feed, i) then return end   -- ends when feed is closed
    end
  end)
  local n = 0
  local function want() n = n + 1; return n end
  local function is(v, what) assert(v == want(), tag .. ": " .. what .. " got " .. tostring(v)) end

  local ok, v = pcall(feed.recv, feed); assert(ok); is(v, "pcall(recv)")
  ok, v = pcall(function() return feed:recv() end); assert(ok); is(v, "pcall(function)")
  ok, v = xpcall(function() return feed:recv() end, debug.traceback); assert(ok); is(v, "xpcall")
  local ok1, ok2, v2 = pcall(pcall, feed.recv, feed); assert(ok1 and ok2); is(v2, "pcall(pcall)")

  local mt = {}
  mt.__index = function(_, k) return feed:recv() end
  mt.__newindex = function(t, k, _) rawset(t, k, feed:recv()) end
  mt.__add = function() return feed:recv() end
  mt.__unm = function() return feed:recv() end
  mt.__len = function() return feed:recv() end
  mt.__concat = function() return feed:recv() end
  mt.__call = function() return feed:recv() end
  mt.__eq = function() feed:recv(); return true end
  mt.__lt = function() feed:recv(); return true end
  mt.__le = function() feed:recv(); return true end
  local o, o2 = setmetatable({}, mt), setmetatable({}, mt)
  is(o.x, "__index")
  o.y = "ignored"; is(rawget(o, "y"), "__newindex")
  is(o + 1, "__add")
  is(-o, "__unm")
  is(#o, "__len")
  is(o .. "s", "__concat")
  is(o(), "__call")
  assert(o == o2); want()
  assert(o < o2); want()
  assert(o <= o2); want()

  local k = 0
  for val in function() k = k + 1; if k <= 3 then return feed:recv() end end do
    is(val, "iterator")
  end

  local function rec(d) if d == 0 then return feed:recv() end return rec(d - 1) + 0 end
  is(rec(150), "deep recursion")
  local function tail(d) if d == 0 then return feed:recv() end return tail(d - 1) end
  is(tail(150), "tail calls")

  local co = coroutine.wrap(function()
    local ok3, v3 = pcall(function() return feed:recv() end)
    coroutine.yield(ok3 and v3)
    local inner = coroutine.wrap(function() coroutine.yield(feed:recv()) end)
    coroutine.yield(inner())
  end)
  is(co(), "pcall in a coroutine")
  is(co(), "coroutine in a coroutine")

  feed:close()
end

suite("main")
local done = chan()
go(function()
  suite("goroutine")
  done:send(true)
end)
assert(done:recv() == true)
