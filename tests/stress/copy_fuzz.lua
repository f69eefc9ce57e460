-- The copier fuzzed: random nested values (edge numbers, binary strings of
-- lengths around every size class of the shards' heap and of messages,
-- cycles, shared sub-tables, shared metatables, closures with shared
-- upvalues, C functions, channels and sync objects) cross between
-- goroutines by channel, as spawn arguments and as upvalues. The receiver
-- rebuilds the expected value from the same seed and compares it with what
-- it got (one copy); then the value travels back and is compared with the
-- original (a round trip). Equal means: the same shape, sharing and
-- cycles included (a one-to-one map between the tables and functions of
-- the two), the same number subtypes (-0.0 and NaN included), the same
-- bytes, the same metatables, functions of the same code with equal
-- upvalues shared the same way, and channels and sync objects identical.
-- arg[1] = workers, arg[2] = seed.
local SEED, rng = dofile("tests/stress/lib/seeded.lua")(arg)

local INTS = {0, 1, -1, 2, 255, 256, -256, 65535, 1 << 31, -(1 << 31), (1 << 32) + 1,
              (1 << 53) + 1, math.maxinteger, math.mininteger, math.mininteger + 1}
local FLOATS = {0.0, -0.0, 1.0, -1.5, 0.1, 1 / 3, 2.0 ^ 53, 2.0 ^ 63, -(2.0 ^ 63), 2.0 ^ 64,
                5e-324, 2.2250738585072014e-308, 1.7976931348623157e308,
                math.huge, -math.huge, 0 / 0, math.pi}

-- String lengths around every boundary the copier or the heap has: the
-- inline part of a message (24 bytes), each size class of the shards'
-- heap (a Lua string takes its length + 25 bytes), the largest small
-- block, and the pool of big buffers (64 KiB).
local LENGTHS = {}
do
  local seen = {}
  local function add(n) if n >= 0 and not seen[n] then seen[n] = true LENGTHS[#LENGTHS + 1] = n end end
  for n = 0, 40 do add(n) end
  local sizes = {}
  for c = 16, 128, 8 do sizes[#sizes + 1] = c end
  for c = 144, 1024, 16 do sizes[#sizes + 1] = c end
  for _, c in ipairs(sizes) do for d = -1, 1 do add(c - 25 + d) add(c + d) end end
  for _, n in ipairs({2048, 4096, 8192, 65536 - 32, 65536, 65536 + 25}) do
    for d = -1, 1 do add(n - 25 + d) add(n + d) end
  end
  add(200000)
  table.sort(LENGTHS)
end
-- a case for each length, then random values
local CASES = #LENGTHS + 1500

local function bytes(r, n)
  local block = {}
  for i = 1, math.min(n, 61) do block[i] = string.char(r(256) - 1) end
  local s = table.concat(block)
  if n > #s then s = s:rep(n // #s + 1):sub(1, n) end
  return s
end

-- ---- closures of a few shapes ----
local function mk_counter(start)
  local c = start
  return function() c = c + 1 return c end, function() return c end
end

local function mk_capture(v)
  return function() return v end
end

local function mk_nested(v)
  local inner = function() return v end
  return function() return inner() end
end

local function mk_recursive()
  local function f(n) if n <= 0 then return 0 end return 1 + f(n - 1) end
  return f
end

local function mk_global(name)
  return function() return type(_ENV[name]) end       -- an _ENV upvalue
end

local function mk_many(a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15,
                       a16, a17, a18, a19, a20, a21, a22, a23, a24, a25)
  return function()        -- 25 upvalues
    return a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15,
           a16, a17, a18, a19, a20, a21, a22, a23, a24, a25
  end
end

local FIELDS = {"id", "name", "price", "tags", "conn", "a_rather_long_field_name_of_40_bytes_xx"}

local CFUNCS = {math.max, string.len, table.concat, print, go.id}

-- ---- the generator: a value from a seed and the shared references ----
local function generate(seed, refs, case)
  local r = rng(seed)
  local pool = {}            -- tables and functions made so far: sharing
  local open = {}            -- tables being filled: cycles
  local mts = {}
  local budget = 60 + r(200)

  local gen
  local function scalar()
    local k = r(10)
    if k <= 3 then return INTS[r(#INTS)] end
    if k == 4 then return r() - (1 << 52) end
    if k <= 6 then return FLOATS[r(#FLOATS)] end
    if k == 7 then return r(2) == 1 end
    -- mostly short strings; every length now and then
    return bytes(r, LENGTHS[r(k == 8 and r(4) == 1 and #LENGTHS or #LENGTHS * 2 // 3)])
  end
  local function key()
    local k = r(6)
    if k == 1 then return INTS[r(#INTS)] end
    if k == 2 then return FLOATS[r(#FLOATS - 3)] end    -- not NaN
    if k == 3 then return r(2) == 1 end
    if k == 4 then return r(1000) end
    return bytes(r, r(30))
  end
  local function func(depth)
    local k = r(7)
    local f
    if k == 1 then
      local inc, get = mk_counter(r(100))
      pool[#pool + 1] = get                      -- shares its upvalue with inc
      f = inc
    elseif k == 2 then f = mk_capture(gen(depth + 1))
    elseif k == 3 then f = mk_nested(gen(depth + 1))
    elseif k == 4 then f = mk_recursive()
    elseif k == 5 then f = mk_global(r(2) == 1 and "print" or "nothing_here")
    elseif k == 6 then
      local a = {}
      for i = 1, 25 do a[i] = scalar() end
      f = mk_many(table.unpack(a, 1, 25))
    else return CFUNCS[r(#CFUNCS)] end
    pool[#pool + 1] = f
    return f
  end
  local function tbl(depth)
    local t = {}
    open[#open + 1] = t
    pool[#pool + 1] = t
    for i = 1, r(9) - 1 do t[i] = gen(depth + 1) end
    if r(3) == 1 then
      -- a long array (the copier's packed runs): one type or mixed, with
      -- holes and now and then a gap past the copier's hole limit
      local kind, n = r(6), #t + r(300)
      for i = #t + 1, n do
        if r(12) ~= 1 then
          if kind == 1 then t[i] = INTS[r(#INTS)] + i
          elseif kind == 2 then t[i] = FLOATS[r(#FLOATS)]
          elseif kind == 3 then t[i] = bytes(r, r(20) - 1)
          elseif kind == 4 then t[i] = r(2) == 1
          elseif kind == 5 then t[i] = gen(depth + 1)
          else t[i] = scalar() end
        end
      end
      if r(3) == 1 then t[n + r(20)] = scalar() end
    end
    for _ = 1, r(4) - 1 do      -- record fields whose names recur: interned keys
      t[FIELDS[r(#FIELDS)]] = gen(depth + 1)
    end
    for _ = 1, r(7) - 1 do
      local k = key()
      if k == k then t[k] = gen(depth + 1) end
    end
    if r(4) == 1 then
      if #mts > 0 and r(2) == 1 then
        setmetatable(t, mts[r(#mts)])            -- a shared metatable
      else
        local mt = {__name = "fuzz" .. r(100), __index = r(2) == 1 and {x = scalar()} or nil}
        if r(2) == 1 then mt.__tostring = func(depth + 1) end
        mts[#mts + 1] = mt
        setmetatable(t, mt)
      end
    end
    open[#open] = nil
    return t
  end
  function gen(depth)
    budget = budget - 1
    local k = r(depth > 4 and 6 or 14)
    if k <= 5 or budget <= 0 then return scalar() end
    if k == 6 then
      if #refs > 0 and r(2) == 1 then return refs[r(#refs)] end
      return scalar()
    end
    if k == 7 and #open > 0 then return open[r(#open)] end      -- a cycle
    if k == 8 and #pool > 0 then return pool[r(#pool)] end      -- sharing
    if k <= 10 then return func(depth) end
    return tbl(depth)
  end

  -- the first cases are plain strings of every length on the list
  if case <= #LENGTHS then return {bytes(r, LENGTHS[case]), LENGTHS[case]} end
  local v = gen(0)
  if r(3) == 1 then return {v, gen(0), v} end    -- the top value shared too
  return v
end

-- ---- the comparison ----
local function compare(a, b, what)
  local ma, mb, ua, ub = {}, {}, {}, {}
  local function bad(path, fmt, ...)
    error(("[seed %d] %s: at %s: " .. fmt):format(SEED, what, path, ...), 0)
  end
  local eq
  local function same_ref(x, y, path)
    if ma[x] ~= nil or mb[y] ~= nil then
      if not rawequal(ma[x], y) or not rawequal(mb[y], x) then bad(path, "sharing differs") end
      return true
    end
    ma[x], mb[y] = y, x
    return false
  end
  function eq(x, y, path)
    local tx, ty = type(x), type(y)
    if tx ~= ty then bad(path, "%s became %s", tx, ty) end
    if tx == "number" then
      if math.type(x) ~= math.type(y) then bad(path, "%s became %s", math.type(x), math.type(y)) end
      if x ~= x then
        if y == y then bad(path, "NaN became %s", tostring(y)) end
      elseif x ~= y or (x == 0 and 1 / x ~= 1 / y) then
        bad(path, "%s became %s", tostring(x), tostring(y))
      end
    elseif tx == "string" then
      if x ~= y then bad(path, "a string of %d bytes became one of %d (or differs)", #x, #y) end
    elseif tx == "boolean" or tx == "nil" then
      if x ~= y then bad(path, "%s became %s", tostring(x), tostring(y)) end
    elseif tx == "userdata" then
      if not rawequal(x, y) then bad(path, "a channel or sync object lost its identity") end
    elseif tx == "table" then
      if same_ref(x, y, path) then return end
      local mx, my = debug.getmetatable(x), debug.getmetatable(y)
      if (mx == nil) ~= (my == nil) then bad(path, "metatable lost or gained") end
      if mx then eq(mx, my, path .. "<mt>") end
      local n = 0
      for k, v in next, x do
        n = n + 1
        local w = rawget(y, k)
        if w == nil then bad(path, "key %s missing", tostring(k)) end
        eq(v, w, path .. "[" .. tostring(k) .. "]")
      end
      for _ in next, y do n = n - 1 end
      if n ~= 0 then bad(path, "%d entries too many", -n) end
    elseif tx == "function" then
      if same_ref(x, y, path) then return end
      local ix, iy = debug.getinfo(x, "Su"), debug.getinfo(y, "Su")
      if ix.what == "C" or iy.what == "C" then
        if not rawequal(x, y) then bad(path, "a C function changed") end
        return
      end
      for _, f in ipairs({"source", "linedefined", "lastlinedefined", "nups", "nparams", "isvararg"}) do
        if ix[f] ~= iy[f] then bad(path, "function %s %s became %s", f, tostring(ix[f]), tostring(iy[f])) end
      end
      for i = 1, ix.nups do
        local nx, vx = debug.getupvalue(x, i)
        local ny, vy = debug.getupvalue(y, i)
        if nx ~= ny then bad(path, "upvalue %d %s became %s", i, nx, ny) end
        local idx, idy = debug.upvalueid(x, i), debug.upvalueid(y, i)
        if (ua[idx] ~= nil or ub[idy] ~= nil) and (ua[idx] ~= idy or ub[idy] ~= idx) then
          bad(path, "upvalue %s shared differently", nx)
        end
        ua[idx], ub[idy] = idy, idx
        -- _ENV is the receiving goroutine's own globals, by design
        if nx ~= "_ENV" then eq(vx, vy, path .. "<up " .. nx .. ">") end
      end
    else
      bad(path, "unexpected %s", tx)
    end
  end
  eq(a, b, "value")
end

-- ---- the traffic ----
local refs = {chan(), chan(3), go.mutex(), go.waitgroup(), go.semaphore(2)}
local to, back = chan(), chan()

-- the echo: compares each value with its own rebuild, sends it back
go(function(refs)
  while true do
    local h = to:recv()
    if h == "stop" then break end
    local v = to:recv()
    compare(generate(h.seed, refs, h.case), v, ("case %d (value seed %d), one copy by channel"):format(h.case, h.seed))
    back:send(v)
  end
end, refs)

local results = chan(CASES)
for case = 1, CASES do
  local seed = SEED * 100000 + case
  local v = generate(seed, refs, case)
  local how = case % 3
  local label = ("case %d (value seed %d)"):format(case, seed)
  if how == 0 then
    -- by channel, there and back
    to:send({seed = seed, case = case})
    to:send(v)
    compare(v, back:recv(), label .. ", round trip by channel")
  elseif how == 1 then
    -- as a spawn argument, back by channel
    go(function(rv, seed, case, refs)
      compare(generate(seed, refs, case), rv, label .. ", one copy as a spawn argument")
      results:send(rv)
    end, v, seed, case, refs)
    compare(v, results:recv(), label .. ", round trip as a spawn argument")
  else
    -- as an upvalue of the spawned function, back by channel
    go(function()
      compare(generate(seed, refs, case), v, label .. ", one copy as an upvalue")
      results:send(v)
    end)
    compare(v, results:recv(), label .. ", round trip as an upvalue")
  end
end
to:send("stop")
