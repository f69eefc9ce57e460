-- Data-dependent numbers of values at the limits: go() with 200 000
-- arguments, go.select with 20 000 cases, coroutines passing 200 000
-- values, values nested as deeply as a copy allows (with many-upvalue
-- closures at the deepest level). Each place that pushes one stack slot
-- per value must grow the Lua stack first, or fail with a clear error:
-- never write past the stack's end.

local function errmsg(f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error")
  return tostring(err)
end

local function range(n, f)
  local t = {}
  for i = 1, n do
    if f then t[i] = f(i) else t[i] = i end
  end
  return t
end

-- ---- go() with 200 000 arguments ----
do
  local N = 200000
  local done = chan()
  go(function(...)
    local n = select("#", ...)
    local t = { ... }
    for i = 1, N do
      if t[i] ~= i then done:send("argument " .. i .. " is " .. tostring(t[i])) return end
    end
    done:send(n)
  end, table.unpack(range(N)))
  assert(done:recv() == N, "200 000 integer arguments")

  -- values that are not plain: tables (one shared), strings, closures
  local shared = { "shared" }
  local args = range(N, function(i)
    local k = i % 4
    if k == 0 then return { i } elseif k == 1 then return shared
    elseif k == 2 then return "s" .. i else return function() return i end end
  end)
  go(function(...)
    local t, first = { ... }, nil
    for i = 1, N do
      local v, k, good = t[i], i % 4, nil
      if k == 0 then good = v[1] == i
      elseif k == 1 then first = first or v; good = v == first and v[1] == "shared"
      elseif k == 2 then good = v == "s" .. i
      else good = v() == i end
      if not good then done:send("argument " .. i .. " damaged") return end
    end
    done:send(select("#", ...))
  end, table.unpack(args))
  assert(done:recv() == N, "200 000 mixed arguments")

  -- a spawned function that is itself called with all of them, and the
  -- goroutine's globals intact afterwards
  go(function(...)
    local n = select("#", ...)
    done:send(type(go) == "table" and type(chan) == "function" and n)
  end, table.unpack(range(N)))
  assert(done:recv() == N, "globals intact after 200 000 arguments")
end

-- ---- go.select with 20 000 cases ----
do
  local N = 20000
  local cs = range(N, function() return chan(1) end)

  -- a ready receive at the last position, a table value
  cs[N]:send({ v = "last" })
  local i, v, ok = go.select(table.unpack(cs))
  assert(i == N and v.v == "last" and ok, "receive at case 20 000")

  -- send cases, all ready: exactly one is taken
  local sends = range(N, function(k) return { cs[k], { k } } end)
  local i2, v2, ok2 = go.select(table.unpack(sends))
  assert(i2 >= 1 and i2 <= N and v2 == nil and ok2, "one send of 20 000")
  assert(cs[i2]:recv()[1] == i2, "the value sent")

  -- nothing ready, then go.default
  local withdefault = range(N, function(k) return k == N // 2 and go.default or cs[k] end)
  assert(go.select(table.unpack(withdefault)) == N // 2, "go.default among 20 000 cases")

  -- nothing ready: park on 20 000 unbuffered channels until one is sent on
  local unbuf = range(N, function() return chan() end)
  go(function() unbuf[N - 1]:send(range(100)) end)
  local i3, v3, ok3 = go.select(table.unpack(unbuf))
  assert(i3 == N - 1 and #v3 == 100 and v3[100] == 100 and ok3, "parked select, 20 000 cases")

  -- the same with nil cases mixed in, and a blocked select in a goroutine
  local res = chan()
  go(function(...)
    local k, v = go.select(...)
    res:send({ k, v })
  end, table.unpack(range(N, function(k) return k % 2 == 0 and unbuf[k] or nil end), 1, N))
  unbuf[2000]:send("to 2000")
  local r = res:recv()
  assert(r[1] == 2000 and r[2] == "to 2000", "select in a goroutine, 20 000 cases")
end

-- ---- coroutines passing 200 000 values (resume, yield, return, wrap) ----
do
  local N = 200000
  local big = range(N)
  local function count(...) return select("#", ...) end
  local co = coroutine.create(function(...)
    assert(select("#", ...) == N)
    local got = { coroutine.yield(...) }
    assert(#got == N)
    return table.unpack(got)
  end)
  local res = { coroutine.resume(co, table.unpack(big)) }
  assert(res[1] == true and #res == N + 1 and res[N + 1] == N, "yield of 200 000 values")
  assert(count(coroutine.resume(co, table.unpack(big))) == N + 1, "return of 200 000 values")
  local w = coroutine.wrap(function(...) return ... end)
  assert(count(w(table.unpack(big))) == N, "wrap with 200 000 values")

  -- the same inside a goroutine (a thread of its own, on any worker)
  local done = chan()
  go(function()
    local co2 = coroutine.wrap(function(...) return coroutine.yield(...) end)
    local n = count(co2(table.unpack(range(N))))
    done:send(n)
  end)
  assert(done:recv() == N, "coroutines in a goroutine")
end

-- ---- nesting at the copy's depth limit ----
do
  local c = chan(1)
  local function chain(depth, leaf)
    local t = leaf
    for _ = 2, depth do t = { t } end
    return t
  end
  local function depthof(t)
    local n = 1
    while type(t[1]) == "table" do t, n = t[1], n + 1 end
    return n, t[1]
  end

  -- 200 levels is the limit; 201 is an error naming the place
  c:send(chain(200, { 1 }))
  assert(depthof(c:recv()) == 200, "200 levels")
  local err = errmsg(c.send, c, chain(201, { 1 }))
  assert(err:find("value nested too deeply (at value [1][1]", 1, true), err)

  -- a closure with 200 upvalues (each made through the receiver's
  -- factory, one stack slot per upvalue) at every level of a deep copy
  local src = {}
  local names = {}
  for i = 1, 200 do names[i] = "u" .. i end
  for i = 1, 200, 50 do
    local vs = {}
    for k = i, i + 49 do vs[#vs + 1] = tostring(k) end
    src[#src + 1] = ("local %s = %s"):format(table.concat(names, ", ", i, i + 49), table.concat(vs, ", "))
  end
  src[#src + 1] = "return function() return " .. table.concat(names, " + ") .. " end"
  local f = assert(load(table.concat(src, "\n")))()
  local sum = 200 * 201 // 2
  local t = f
  for _ = 1, 198 do t = { t, f } end
  for r = 1, 3 do
    c:send(t)
    local got = c:recv()
    local n = 1
    while type(got) == "table" do
      assert(got[2]() == sum, "closure at level " .. n)
      got, n = got[1], n + 1
    end
    assert(n == 199 and got() == sum, "199 levels of closures, round " .. r)
  end

  -- and into a goroutine, where the receiving thread starts small
  local done = chan()
  go(function(x)
    local n = 1
    while type(x) == "table" do x, n = x[1], n + 1 end
    done:send(n == 199 and x() == sum and type(go) == "table")
  end, t)
  assert(done:recv() == true, "199 levels of closures into a goroutine")
end
