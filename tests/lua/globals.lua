-- Each goroutine, main included, has its own globals: the standard
-- libraries and lungo's API, plus what it assigns. Nothing assigned in one
-- goroutine is visible in another, even when they share a worker.
GL_MAIN = "main"
local back = chan(100)

local names = { "string", "table", "math", "io", "os", "coroutine", "utf8", "debug", "package",
  "print", "pairs", "ipairs", "select", "type", "tostring", "tonumber", "pcall", "xpcall", "error",
  "assert", "load", "loadfile", "dofile", "require", "setmetatable", "getmetatable", "rawget",
  "rawset", "rawequal", "rawlen", "next", "collectgarbage", "go", "chan" }
local function check_env(where)
  for _, name in ipairs(names) do
    assert(_G[name] ~= nil, where .. ": missing global " .. name)
  end
  assert(type(_G) == "table" and _G._G == _G, where .. ": _G._G == _G")
  assert(_ENV == _G, where .. ": _ENV == _G")
  assert(_VERSION == "Lua 5.4", where .. ": _VERSION")
  assert(go.chan ~= nil and type(go.id) == "function" and type(go.yield) == "function", where)
end
check_env("main")

-- main's globals are not visible in goroutines, and each goroutine's own
-- globals survive its blocking while others (maybe on the same worker) run
local gate = chan()
local N = 50
for i = 1, N do
  go(function(k)
    MINE = k
    _G.MINE_TOO = k * 2
    check_env("goroutine " .. k)
    local seen_main = GL_MAIN
    gate:recv()
    go.yield()
    back:send({ k = k, mine = MINE, too = MINE_TOO, main = seen_main })
  end, i)
end
gate:close()
for _ = 1, N do
  local r = back:recv()
  assert(r.mine == r.k and r.too == r.k * 2, "goroutine " .. r.k .. " saw another goroutine's global")
  assert(r.main == nil, "main's global leaked into a goroutine")
end
assert(MINE == nil and MINE_TOO == nil, "a goroutine's global leaked into main")
assert(GL_MAIN == "main")

-- a goroutine's globals are not visible in the goroutines it spawns
go(function()
  PARENT_ONLY = 1
  go(function() back:send(PARENT_ONLY == nil and GL_MAIN == nil) end)
end)
assert(back:recv() == true, "a spawned goroutine saw its parent's (or main's) global")

-- replacing standard globals in one goroutine does not affect others
go(function()
  string = nil; print = nil; tostring = nil; go = nil; chan = nil
  back:send(string == nil)
end)
assert(back:recv() == true)
assert(type(string) == "table" and print ~= nil and tostring ~= nil and go ~= nil and chan ~= nil)
go(function()
  back:send(type(string) == "table" and print ~= nil and tostring ~= nil and go ~= nil and chan ~= nil)
end)
assert(back:recv() == true, "another goroutine lost its standard globals")

-- a strict metatable on one goroutine's _G stays in that goroutine
do
  local signal = chan()
  go(function()
    setmetatable(_G, {
      __index = function(_, k) error("strict: undefined global " .. tostring(k), 2) end,
    })
    local ok, err = pcall(function() return UNDEFINED_STRICT end)
    assert(not ok and tostring(err):find("strict", 1, true), "the strict metatable works in its goroutine")
    assert(string.format("%d", 3) == "3", "standard globals still reachable under a strict _G")
    signal:send(true)
  end)
  assert(signal:recv() == true)
  assert(UNDEFINED_STRICT == nil)
  go(function() back:send(UNDEFINED_STRICT == nil) end)
  assert(back:recv() == true)
end

-- _G and _ENV name the goroutine's own table; load() without env uses it
go(function()
  _G.VIA_G = "g"
  rawset(_G, "VIA_RAWSET", "r")
  back:send(VIA_G == "g" and VIA_RAWSET == "r" and load("return VIA_G")() == "g")
end)
assert(back:recv() == true)
assert(VIA_G == nil and VIA_RAWSET == nil)
