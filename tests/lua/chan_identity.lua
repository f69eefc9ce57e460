-- Channels keep their identity when copied: the same channel reaching a
-- goroutine twice (upvalue, argument, inside tables, as a key, over a
-- channel) is one Lua value there, and it comes back as the original.
local a, b = chan(1), chan(1)
assert(a ~= b and a == a)

local back = chan(10)
go(function(x, t)
  back:send({
    x == a, rawequal(x, a), t[1] == a, t[2] == a, t[a] == "key",
    t.b == b, t.b ~= a, rawequal(t[1], x),
  })
  back:send(x)
  back:send(t)
end, a, { a, a, [a] = "key", b = b })
local r = back:recv()
for i = 1, 8 do assert(r[i] == true, "identity check " .. i .. " in the goroutine") end
local x = back:recv()
assert(rawequal(x, a), "a channel sent back is the original")
local t = back:recv()
assert(t[1] == a and t[2] == a and t[a] == "key" and t.b == b, "channels inside tables and as keys")

-- over itself
a:send(a)
assert(rawequal(a:recv(), a))

-- a channel created in a goroutine, used from main, sent back
do
  local reply = chan()
  go(function()
    local mine = chan()
    reply:send(mine)
    local v = mine:recv()
    reply:send(v * 2)
    reply:send(mine)
    reply:send({ mine, k = mine })
  end)
  local mine = reply:recv()
  mine:send(21)
  assert(reply:recv() == 42)
  assert(reply:recv() == mine)
  local tt = reply:recv()
  assert(tt[1] == mine and tt.k == mine)
end

-- a channel received twice by one goroutine (argument, then over a channel)
do
  local c = chan(1)
  local via = chan(1)
  local res = chan(1)
  go(function(arg_c)
    local seen = { [arg_c] = "from argument" }
    local got = via:recv()
    res:send(rawequal(got, arg_c) and seen[got] == "from argument")
  end, c)
  via:send(c)
  assert(res:recv() == true, "the same channel twice is the same value")
end

-- a table of many channels round-trips with every identity intact
do
  local set = {}
  for i = 1, 100 do set[i] = chan(1) end
  local echo = chan()
  go(function() echo:send(echo:recv()) end)
  echo:send(set)
  local copy = echo:recv()
  assert(copy ~= set)
  for i = 1, 100 do assert(rawequal(copy[i], set[i]), "channel " .. i) end
  -- and they still work
  copy[50]:send("hi")
  assert(set[50]:recv() == "hi")
end
