-- What every stress script shares: its seed (arg[2], the workload; what is
-- asserted never depends on it), a generator of its own (math.random's
-- state is per worker, shared by whatever runs there, so it would not give
-- a workload of the seed alone) and a failure that names the seed.
--   local SEED, rng, fail = dofile("tests/stress/lib/seeded.lua")(arg)
return function(arg)
  local SEED = math.tointeger(tonumber(arg and arg[2])) or 1
  local function rng(seed)
    local s = seed * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019
    return function(n)
      s = s * 6364136223846793005 + 1442695040888963407
      local x = (s >> 11) ~ (s >> 40)
      if n then return x % n + 1 end
      return x
    end
  end
  local function fail(fmt, ...)
    error(("[seed %d] " .. fmt):format(SEED, ...), 2)
  end
  return SEED, rng, fail
end
