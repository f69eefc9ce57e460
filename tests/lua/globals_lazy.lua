-- A goroutine whose function names no global gets its globals table only
-- when something first needs it (a function received that names one, load,
-- require, _G sent back). Whenever that happens, it is the goroutine's own
-- table, the same one from then on, and never another goroutine's.
local out = chan(10)
local fns = chan(10)

-- no global in this function: it starts without a globals table
local function plain(inbox, reply)
  local f = inbox:recv()        -- names globals: they are made here
  reply:send(f())
  local g = inbox:recv()        -- sees what f assigned
  reply:send(g())
  local h = inbox:recv()        -- load: the same table
  reply:send(h())
end

local N = 8
local inboxes = {}
for i = 1, N do
  inboxes[i] = chan(3)
  go(plain, inboxes[i], out)
end
for i = 1, N do
  inboxes[i]:send(function() LAZY = (LAZY or 0) + 1; return LAZY end)
end
for i = 1, N do assert(out:recv() == 1, "each goroutine had its own LAZY") end
for i = 1, N do
  inboxes[i]:send(function() LAZY = LAZY + 10; return LAZY end)
end
for i = 1, N do assert(out:recv() == 11) end
for i = 1, N do
  inboxes[i]:send(function() return load("return LAZY + 100, _G == _ENV")() and LAZY + 100 end)
end
for i = 1, N do assert(out:recv() == 111) end
assert(LAZY == nil, "main never saw a goroutine's globals")

-- a goroutine without globals sending its _G (made on demand) and a table
go(function(c)
  local t = { 1, 2, 3 }
  c:send(t)
  c:send(load("return _G")())
end, fns)
local t = fns:recv()
assert(#t == 3 and t[3] == 3)
assert(fns:recv() == _G, "a goroutine's _G arrives as the receiver's globals")

-- require from a goroutine without globals: the module's global writes land
-- in that goroutine, and the module loaded fine
go(function(c)
  local r = require
  c:send(r("string") ~= nil)
end, fns)
assert(fns:recv() == true)
print("ok")
