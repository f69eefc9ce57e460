-- Where Lua cannot suspend (C calls without continuations: table.sort
-- comparators and __lt, string.gsub callbacks, __index reached from
-- table.unpack, __tostring via tostring, load() readers, a module body run
-- by require, __gc, and a coroutine resumed from such a place) a blocking
-- channel operation raises "cannot block ... <op>" - never "attempt to
-- yield across a C-call boundary". Operations that need not block (a
-- buffered value present, room to send, a closed channel, close, go())
-- work there. Run in main and in a spawned goroutine.
local dir = arg[0]:match("^(.*)[/\\]") or "."
local modpath = dir .. "/mods/?.lua;"

local function check_msg(op, what, err)
  err = tostring(err)
  assert(err:find("cannot block", 1, true), what .. ": want 'cannot block', got: " .. err)
  assert(err:find(op, 1, true), what .. ": want '" .. op .. "' in: " .. err)
  assert(not err:find("attempt to yield", 1, true), what .. ": " .. err)
end

local function expect_cannot_block(op, what, f)
  local ok, err = pcall(f)
  assert(not ok, what .. ": a blocking " .. op .. " must raise an error here")
  check_msg(op, what, err)
end

local function suite(tag)
  local empty = chan()                 -- nobody ever sends or receives on it
  local full = chan(1)
  full:send("x")                       -- no room left

  expect_cannot_block("recv", tag .. ": table.sort comparator", function()
    table.sort({ 3, 1, 2 }, function(a, b) empty:recv(); return a < b end)
  end)
  expect_cannot_block("send", tag .. ": gsub callback, unbuffered", function()
    string.gsub("abc", "%a", function(c) empty:send(c) end)
  end)
  expect_cannot_block("send", tag .. ": gsub callback, full buffer", function()
    string.gsub("abc", "%a", function(c) full:send(c) end)
  end)
  assert(#full == 1 and #empty == 0, tag .. ": a failed send left something behind")

  local lt = { __lt = function(a, b) empty:recv(); return a.v < b.v end }
  expect_cannot_block("recv", tag .. ": __lt from table.sort", function()
    table.sort({ setmetatable({ v = 2 }, lt), setmetatable({ v = 1 }, lt) })
  end)
  expect_cannot_block("recv", tag .. ": __index from table.unpack", function()
    return table.unpack(setmetatable({}, { __index = function() return empty:recv() end }), 1, 1)
  end)
  expect_cannot_block("recv", tag .. ": __tostring from tostring", function()
    return tostring(setmetatable({}, { __tostring = function() return empty:recv() end }))
  end)

  -- load() runs its reader from C; load reports reader errors as nil, msg
  do
    local ok, f, err = pcall(load, function() return empty:recv() end)
    assert(not (ok and f), tag .. ": load with a blocking reader must fail")
    check_msg("recv", tag .. ": load reader", ok and err or f)
  end

  -- require of a module whose body blocks
  if not package.path:find(modpath, 1, true) then package.path = modpath .. package.path end
  expect_cannot_block("recv", tag .. ": require of a blocking module", function()
    return require("blocking_mod")
  end)
  assert(package.loaded.blocking_mod == nil, tag .. ": the failed module was not registered")

  -- __gc: record the outcome in a table, the finalizer cannot raise to us
  do
    local gcres = {}
    setmetatable({}, { __gc = function()
      local ok, err = pcall(empty.recv, empty)
      gcres.ok, gcres.err = ok, err
    end })
    collectgarbage()
    collectgarbage()
    assert(gcres.err ~= nil or gcres.ok ~= nil, tag .. ": the finalizer did not run")
    assert(gcres.ok == false, tag .. ": a blocking recv in __gc must fail")
    check_msg("recv", tag .. ": __gc", gcres.err)
  end

  -- a coroutine resumed from a comparator: it is yieldable itself, but the
  -- goroutine cannot suspend through the comparator
  do
    local results = {}
    local ok, err = pcall(table.sort, { 2, 1 }, function(a, b)
      local co = coroutine.create(function() return empty:recv() end)
      results[#results + 1] = table.pack(coroutine.resume(co))
      return a < b
    end)
    local msg
    if not ok then
      msg = err
    else
      local r = results[1]
      assert(r and r[1] == false, tag .. ": a blocking recv in a coroutine inside a comparator must fail")
      msg = r[2]
    end
    check_msg("recv", tag .. ": coroutine inside a comparator", msg)
  end

  -- operations that need not block work in those places
  do
    local ready = chan(3)
    ready:send(10); ready:send(20); ready:send(30)
    local got = {}
    string.gsub("abc", "%a", function() got[#got + 1] = ready:recv() end)
    assert(got[1] == 10 and got[2] == 20 and got[3] == 30, tag .. ": recv with values present in gsub")

    local room = chan(3)
    string.gsub("xyz", ".", function(c) room:send(c) end)
    assert(#room == 3 and room:recv() == "x" and room:recv() == "y" and room:recv() == "z",
      tag .. ": send with room in gsub")

    local pool = chan(100)
    for i = 1, 100 do pool:send(i) end
    local t, used = { 5, 3, 9, 1, 7 }, 0
    table.sort(t, function(a, b)
      if #pool > 0 then
        local v, ok = pool:recv()
        assert(ok and v == used + 1)
        used = used + 1
      end
      return a < b
    end)
    assert(used > 0 and t[1] == 1 and t[5] == 9, tag .. ": recv with values present in a comparator")

    local closed = chan()
    closed:close()
    local spawned, calls = chan(), 0
    table.sort({ 2, 1, 3 }, function(a, b)
      local v, ok = closed:recv()
      assert(v == nil and ok == false)
      for _ in closed:range() do error("closed channel yields nothing") end
      calls = calls + 1
      go(function(x) spawned:send(x) end, a)     -- spawning never blocks
      return a < b
    end)
    for _ = 1, calls do assert(type(spawned:recv()) == "number") end

    local toclose = chan(1)
    string.gsub("a", "a", function() toclose:close() end)
    local v, ok = toclose:recv()
    assert(v == nil and ok == false, tag .. ": close inside gsub")
  end

  -- after all that the goroutine still blocks normally
  local after = chan()
  go(function() after:send("still fine") end)
  assert(after:recv() == "still fine")
  full:recv()
end

suite("main")
local done = chan()
go(function()
  suite("goroutine")
  done:send(true)
end)
assert(done:recv() == true)
