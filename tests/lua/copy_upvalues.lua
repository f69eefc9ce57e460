-- Closures with many upvalues (up to Lua's limit, 255) copied again and
-- again: over a buffered channel within one goroutine, as go()'s function,
-- as go()'s argument, and back from a goroutine. The receiver makes such a
-- closure with one stack slot per upvalue, a push that once went past the
-- end of the Lua stack and corrupted the heap (globals wiped, crashes);
-- every copy must arrive intact and leave the receiver's state intact.

-- A function with n upvalues holding 1..n (every third one a table {i}),
-- which sends them back in a table when given a channel. Lua allows 200
-- locals per function, so beyond that the upvalues come from two levels.
local function source(n)
  local outer, inner = math.min(n, 200), n - math.min(n, 200)
  local src, names = {}, {}
  local function decl(prefix, first, count)
    local ns, vs = {}, {}
    for i = 1, count do
      local k = first + i - 1
      ns[i] = prefix .. k
      vs[i] = k % 3 == 0 and ("{" .. k .. "}") or tostring(k)
      names[#names + 1] = ns[i]
    end
    -- in groups: an expression list is limited too
    for i = 1, count, 50 do
      local j = math.min(i + 49, count)
      src[#src + 1] = ("local %s = %s"):format(table.concat(ns, ", ", i, j),
                                               table.concat(vs, ", ", i, j))
    end
  end
  local body = "return function(out) local t = {%s} if out then out:send(t) end return t end"
  decl("a", 1, outer)
  if inner == 0 then
    src[#src + 1] = body
  else
    src[#src + 1] = "return (function()"     -- not a local: the 200 are taken
    decl("b", outer + 1, inner)
    src[#src + 1] = body .. " end)()"
  end
  src[#src] = src[#src]:format(table.concat(names, ", "))
  return table.concat(src, "\n")
end

local function make(n)
  local f = assert(load(source(n), "=(upvalues " .. n .. ")"))()
  assert(debug.getupvalue(f, n) and not debug.getupvalue(f, n + 1), "upvalue count")
  return f
end

-- what f's upvalues hold, checked in whichever goroutine has f
local function intact(f, n)
  local t = f()
  if #t ~= n then return false, "got " .. #t .. " upvalues" end
  for i = 1, n do
    local v = t[i]
    if i % 3 == 0 then v = type(v) == "table" and v[1] end
    if v ~= i then return false, "upvalue " .. i .. " is " .. tostring(t[i]) end
  end
  -- the receiver's globals survive the copy
  if type(go) ~= "table" or type(chan) ~= "function" then return false, "globals damaged" end
  return true
end

local function check(what, ok, err)
  assert(ok, what .. ": " .. tostring(err))
end

local ROUNDS = 4
for _, n in ipairs({ 1, 20, 40, 50, 100, 150, 199, 200, 201, 254, 255 }) do
  local f = make(n)
  local what = n .. " upvalues"
  check(what .. " (original)", intact(f, n))

  -- over chan(1), within the main goroutine, several times
  local c = chan(1)
  for r = 1, ROUNDS do
    c:send(f)
    local g = c:recv()
    check(what .. ", chan(1) round " .. r, intact(g, n))
    c:send({ f, g, f })                      -- several closures in one value
    local t = c:recv()
    assert(t[1] == t[3] and t[1] ~= t[2], what .. ": sharing kept")
    check(what .. ", in a table, round " .. r, intact(t[2], n))
  end

  -- as go()'s function and as its argument, several times
  local res = chan()
  for r = 1, ROUNDS do
    go(f, res)
    local t = res:recv()
    check(what .. ", go(f) round " .. r, intact(function() return t end, n))
    go(function(g, out)
      local ok, err = intact(g, n)
      -- and back again from the goroutine
      out:send({ ok = ok, err = err, g = g })
    end, f, res)
    local back = res:recv()
    check(what .. ", go argument round " .. r, back.ok, back.err)
    check(what .. ", back from a goroutine round " .. r, intact(back.g, n))
  end
end

-- every upvalue at once the maximum: 255 closures of 255 upvalues each, in
-- one message, each upvalue holding a table that holds a closure
do
  local f = make(255)
  local fs = {}
  for i = 1, 255 do fs[i] = { f = f, i = i } end
  local c = chan(1)
  for r = 1, 3 do
    c:send(fs)
    local got = c:recv()
    assert(#got == 255, "255 entries")
    for i = 1, 255 do
      assert(got[i].i == i and got[i].f == got[1].f, "shared closure")
    end
    check("255 x 255, round " .. r, intact(got[1].f, 255))
  end
end
