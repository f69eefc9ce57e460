-- go.default copies as itself: through a channel, in a table, as a go()
-- argument and as an upvalue, it is still select's marker in the
-- receiving goroutine. Other light userdata still cannot cross.
local dflt = go.default
local c = chan(1)
c:send({d = dflt, list = {dflt, dflt}})
local t = c:recv()
assert(t.d == go.default and t.list[1] == go.default and t.list[2] == t.d)

local results = chan()
local empty = chan()
go(function(d)
  -- the argument and the upvalue both work as select's default case
  local a = go.select(empty, d)
  local b = go.select(empty, dflt)
  results:send({a, b, d == go.default, dflt == go.default})
end, dflt)
local r = results:recv()
assert(r[1] == 2 and r[2] == 2, "default case chosen in the goroutine")
assert(r[3] and r[4], "the copies are go.default there")

-- a function keeping it as an upvalue, sent over a channel
local f = function() return go.select(empty, dflt) end
c:send(f)
go(function(g) results:send(g()) end, c:recv())
assert(results:recv() == 2)

-- any other light userdata is still refused, with the usual error
local ok, err = pcall(function() c:send(debug.upvalueid(f, 1)) end)
assert(not ok and err:find("cannot copy userdata", 1, true), err)
