-- mem-limit: 16777216
-- Out of memory under cfg.mem_limit (the runner reads the line above), caught:
-- a goroutine fills the memory again and again and catches the error with
-- pcall, while others keep passing integers around (which, once they run,
-- allocate nothing, so the shared limit cannot fail them) and finish with
-- the right sums. arg[1] = workers, arg[2] = seed.
local SEED = math.tointeger(tonumber(arg and arg[2])) or 1
local function fail(fmt, ...)
  error(("[seed %d] " .. fmt):format(SEED, ...), 2)
end

local N, ROUNDS, HOGS = 6, 3000, 8
local res = chan(N)
local progress = chan(1)
for k = 1, N do
  go(function()
    local a, b = chan(), chan(4)
    go(function()
      for i = 1, ROUNDS do a:send(i) end
      b:send(0)
    end)
    local s = 0
    for i = 1, ROUNDS do
      s = s + a:recv()
      if i % 500 == 0 then go.select({progress, k}, go.default) end
    end
    s = s + b:recv()
    res:send(s)
  end)
end

local caught = 0
for round = 1, HOGS do
  local ok, err = pcall(function()
    local t = {}
    for i = 1, 1e9 do t[i] = string.rep("x", 256 * 1024 - 32) .. i end
  end)
  collectgarbage()
  if ok then fail("round %d: the memory limit never hit", round) end
  if not tostring(err):find("not enough memory", 1, true) then fail("round %d: %s", round, tostring(err)) end
  caught = caught + 1
  go.select(progress, go.default)          -- let the others run in between
  go.yield()
end

for _ = 1, N do
  local s = res:recv()
  if s ~= ROUNDS * (ROUNDS + 1) // 2 then fail("a goroutine's sum is %d", s) end
end
if caught ~= HOGS then fail("caught %d of %d", caught, HOGS) end
