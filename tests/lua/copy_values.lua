-- Share-nothing copying of every copyable kind of value, both through a
-- channel within one goroutine and through go() + a channel back (two
-- copies): numbers keep their subtype, strings are binary safe, tables keep
-- cycles, shared sub-tables and metatables; functions keep code, upvalues
-- (shared ones stay shared) and take the receiver's globals.
local loop = chan(1)
local function self_copy(v)           -- same goroutine, still a copy
  loop:send(v)
  return (loop:recv())
end
local back = chan()
local function via_goroutine(v)       -- into a goroutine and back to main
  go(function(x) back:send(x) end, v)
  return (back:recv())
end
local function both(v, check, what)
  check(self_copy(v), "channel copy: " .. what)
  check(via_goroutine(v), "goroutine copy: " .. what)
end

-- integers and floats keep their subtype
for _, v in ipairs({ 0, 1, -1, 42, math.maxinteger, math.mininteger, 1 << 62 }) do
  both(v, function(c, w) assert(math.type(c) == "integer" and c == v, w) end, "integer " .. v)
end
for _, v in ipairs({ 0.0, 1.0, -2.5, math.pi, 1e308, 5e-324, 2^53, 2^63, math.huge, -math.huge }) do
  both(v, function(c, w) assert(math.type(c) == "float" and c == v, w) end, "float " .. v)
end
both(-0.0, function(c, w) assert(math.type(c) == "float" and 1 / c == -math.huge, w) end, "-0.0")
both(0 / 0, function(c, w) assert(math.type(c) == "float" and c ~= c, w) end, "nan")

-- booleans
both(true, function(c, w) assert(c == true, w) end, "true")
both(false, function(c, w) assert(c == false, w) end, "false")

-- strings, binary safe
do
  local bytes = {}
  for i = 0, 255 do bytes[#bytes + 1] = string.char(i) end
  local all = table.concat(bytes)
  local big = string.rep("lungo\0\255", 150000)
  for _, s in ipairs({ "", "hello", "a\0b\0c", all, big }) do
    both(s, function(c, w) assert(type(c) == "string" and #c == #s and c == s, w) end, "string of " .. #s .. " bytes")
  end
end

-- tables: array and hash parts, odd keys, nesting
do
  local t = { 1, 2, 3, x = "y", [true] = false, [1.5] = "f", [-1] = "neg", ["with\0nul"] = 7,
              nested = { a = { b = { c = "deep" } } } }
  both(t, function(c, w)
    assert(type(c) == "table" and c ~= t, w)
    assert(c[1] == 1 and c[2] == 2 and c[3] == 3 and #c == 3, w)
    assert(c.x == "y" and c[true] == false and c[1.5] == "f" and c[-1] == "neg" and c["with\0nul"] == 7, w)
    assert(c.nested.a.b.c == "deep" and c.nested ~= t.nested, w)
    local n = 0
    for _ in pairs(c) do n = n + 1 end
    assert(n == 9, w .. ": key count " .. n)
  end, "table")
  both({}, function(c, w) assert(type(c) == "table" and next(c) == nil, w) end, "empty table")
  both({ nil, 2, nil, 4 }, function(c, w) assert(c[1] == nil and c[2] == 2 and c[3] == nil and c[4] == 4, w) end, "holes")
  local keyt = { name = "k" }
  both({ [keyt] = "val", key = keyt }, function(c, w)
    assert(c.key ~= keyt and c[c.key] == "val" and c.key.name == "k", w)
  end, "table as key")
  local arr = {}
  for i = 1, 10000 do arr[i] = i end
  both(arr, function(c, w)
    local s = 0
    for i = 1, #c do s = s + c[i] end
    assert(#c == 10000 and s == 50005000, w)
  end, "10000 elements")
end

-- cycles and shared sub-tables keep their shape
do
  local s = { v = "shared" }
  local cyc = { a = s, b = s, list = { s, s } }
  cyc.self = cyc
  cyc.list.up = cyc
  both(cyc, function(c, w)
    assert(c.self == c and c.list.up == c, w .. ": cycles")
    assert(c.a == c.b and c.a == c.list[1] and c.a == c.list[2], w .. ": shared sub-table")
    assert(c.a.v == "shared" and c.a ~= s, w)
  end, "shape")
end

-- metatables are copied, and a shared metatable stays shared
do
  local mt = { __index = { x = 1 }, __tostring = function(self) return "obj:" .. self.name end }
  local o1 = setmetatable({ name = "a" }, mt)
  local o2 = setmetatable({ name = "b" }, mt)
  both({ o1, o2 }, function(c, w)
    local m1, m2 = getmetatable(c[1]), getmetatable(c[2])
    assert(type(m1) == "table" and m1 ~= mt and m1 == m2, w .. ": metatable")
    assert(c[1].x == 1 and tostring(c[1]) == "obj:a" and tostring(c[2]) == "obj:b", w)
  end, "metatables")
end

-- copies are independent of the original
do
  local orig = { n = 1, sub = { n = 1 } }
  local c = self_copy(orig)
  c.n = 2; c.sub.n = 2
  assert(orig.n == 1 and orig.sub.n == 1, "mutating a copy changed the original")
  local done = chan()
  go(function(a) a.n = 99; a.sub.n = 99; done:send(a.n) end, orig)
  assert(done:recv() == 99 and orig.n == 1 and orig.sub.n == 1, "a goroutine changed main's table")
  -- the value is copied when sent: later changes by the sender do not travel
  local buf = chan(1)
  local m = { v = 1 }
  buf:send(m)
  m.v = 2
  assert(buf:recv().v == 1, "the copy is taken at send time")
  -- and go() arguments are copied at go() time
  local gate, res = chan(), chan()
  local arg = { v = 1 }
  go(function(a) gate:recv(); res:send(a.v) end, arg)
  arg.v = 2
  gate:send(true)
  assert(res:recv() == 1, "go() arguments are copied at spawn time")
end

-- nesting 100 levels deep copies fine
do
  local deep = { i = 1 }
  local cur = deep
  for i = 2, 100 do cur.next = { i = i }; cur = cur.next end
  both(deep, function(c, w)
    local x = c
    for i = 1, 100 do assert(x and x.i == i, w); x = x.next end
    assert(x == nil, w)
  end, "depth 100")
end

-- functions: code, upvalues by value
do
  local function add(a, b) return a + b end
  both(add, function(c, w) assert(type(c) == "function" and c ~= add and c(2, 3) == 5, w) end, "plain function")
  local k = 10
  both(function(x) return x + k end, function(c, w) assert(c(1) == 11, w) end, "closure")
  local n = 0
  local inc = function() n = n + 1; return n end
  inc()
  both(inc, function(c, w) assert(c() == 2 and c() == 3, w) end, "upvalue copied by value")
  assert(inc() == 2, "the original keeps its own upvalue")
  local function fact(m) if m <= 1 then return 1 end return m * fact(m - 1) end
  both(fact, function(c, w) assert(c(10) == 3628800, w) end, "recursive local function")
  local function varsum(...) local s = 0 for _, v in ipairs({ ... }) do s = s + v end return s end
  both(varsum, function(c, w) assert(c(1, 2, 3) == 6, w) end, "vararg function")
end

-- upvalues shared by two functions of one value stay shared in the copy
do
  local function make()
    local n = 0
    return { inc = function() n = n + 1; return n end, get = function() return n end }
  end
  local obj = make()
  obj.inc()
  both(obj, function(c, w)
    assert(c.inc() == 2 and c.get() == 2 and c.inc() == 3 and c.get() == 3, w .. ": shared upvalue")
  end, "shared upvalues")
  assert(obj.get() == 1, "the original object was not touched")
  local res = chan()
  go(function(o) o.inc(); o.inc(); res:send(o.get()) end, obj)
  assert(res:recv() == 3)
  assert(obj.get() == 1)
end

-- a cycle through an upvalue: t.f's upvalue is t itself
do
  local holder = {}
  local function get_holder() return holder end
  holder.f = get_holder
  both(holder, function(c, w) assert(c ~= holder and c.f() == c, w) end, "cycle through an upvalue")
end

-- the copy's globals are the receiving goroutine's
do
  CV_GLOBAL = "main"
  local function read_global() return CV_GLOBAL end
  assert(self_copy(read_global)() == "main")
  assert(via_goroutine(read_global)() == "main", "a function returned to main reads main's globals")
  local res = chan()
  go(function(f) CV_GLOBAL = "child"; res:send(f()) end, read_global)
  assert(res:recv() == "child", "a copied function reads the receiver's globals")
  go(function(f) res:send(f() == nil) end, read_global)
  assert(res:recv() == true, "main's global is not visible through a copied function")
  assert(CV_GLOBAL == "main")
end

-- C functions without upvalues cross as themselves
both(string.upper, function(c, w) assert(c == string.upper and c("abc") == "ABC", w) end, "C function")
both({ f = math.max, g = string.rep }, function(c, w)
  assert(c.f(1, 5, 3) == 5 and c.g("ab", 2) == "abab", w)
end, "C functions in a table")
do
  local res = chan()
  go(function(f, x) res:send(f(x)) end, string.upper, "go")
  assert(res:recv() == "GO")
end

-- the spawned function's upvalues are copies too (same worker or not)
do
  local counter = { n = 0 }
  local x = 1
  local outs = chan(10)
  for _ = 1, 5 do
    go(function()
      counter.n = counter.n + 1
      x = x + 100
      outs:send({ counter.n, x })
    end)
  end
  x = 2
  for _ = 1, 5 do
    local r = outs:recv()
    assert(r[1] == 1 and r[2] == 101, "each goroutine has its own copy of the upvalues")
  end
  assert(counter.n == 0 and x == 2, "main's upvalues untouched")
end
