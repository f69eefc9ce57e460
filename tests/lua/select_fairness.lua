-- go.select chooses uniformly at random among ready cases. Statistical,
-- never timing-based: each count must lie within mean +- 6 sigma of the
-- binomial (a false failure has odds of about 1e-9 per check).

local N = 3000

local function check_counts(counts, k, what)
  local p = 1 / k
  local mean = N * p
  local sigma = math.sqrt(N * p * (1 - p))
  local total = 0
  for i = 1, k do
    local c = counts[i] or 0
    total = total + c
    assert(math.abs(c - mean) <= 6 * sigma,
      ("%s: case %d chosen %d times of %d, expected %.0f +- %.0f"):format(what, i, c, N, mean, 6 * sigma))
  end
  assert(total == N, what .. ": every select chose one of the counted cases")
end

-- Wald-Wolfowitz runs test on a 2-case sequence: catches alternation or
-- long streaks that the counts alone would not.
local function check_runs(seq, what)
  local n1, n2, runs = 0, 0, 0
  for j, v in ipairs(seq) do
    if v == 1 then n1 = n1 + 1 else n2 = n2 + 1 end
    if j == 1 or seq[j - 1] ~= v then runs = runs + 1 end
  end
  local n = n1 + n2
  local mean = 1 + 2 * n1 * n2 / n
  local var = 2 * n1 * n2 * (2 * n1 * n2 - n) / (n * n * (n - 1))
  assert(math.abs(runs - mean) <= 6 * math.sqrt(var),
    ("%s: %d runs, expected %.0f +- %.0f"):format(what, runs, mean, 6 * math.sqrt(var)))
end

local function closed() local c = chan(); c:close(); return c end

-- 2 always-ready receive cases (closed channels)
do
  local a, b = closed(), closed()
  local counts, seq = {}, {}
  for j = 1, N do
    local i, v, ok = go.select(a, b)
    assert(v == nil and ok == false)
    counts[i] = (counts[i] or 0) + 1
    seq[j] = i
  end
  check_counts(counts, 2, "2 closed receives")
  check_runs(seq, "2 closed receives")
end

-- 3 always-ready cases of mixed kinds: closed receive, buffered send with
-- room, buffered receive with a value; default present but never chosen
do
  local a = closed()
  local s = chan(N + 1)
  local r = chan(N + 1)
  for _ = 1, N do r:send(1) end
  local counts = {}
  for _ = 1, N do
    local i = go.select(a, {s, 1}, nil, r, go.default)
    assert(i ~= 3 and i ~= 5, "nil and default never chosen when something is ready")
    local slot = (i == 4) and 3 or i
    counts[slot] = (counts[slot] or 0) + 1
  end
  check_counts(counts, 3, "mixed 3 ready cases")
  assert(#s == counts[2] and #r == N - counts[3], "each chosen case did its operation once")
end

-- the same channel in 3 positions
do
  local c = closed()
  local counts = {}
  for _ = 1, N do
    local i = go.select(c, c, c)
    counts[i] = (counts[i] or 0) + 1
  end
  check_counts(counts, 3, "one channel in 3 positions")
end

-- 2 ready send cases, values checked
do
  local x, y = chan(N), chan(N)
  local counts, seq = {}, {}
  for j = 1, N do
    local i = go.select({x, j}, {y, -j})
    counts[i] = (counts[i] or 0) + 1
    seq[j] = i
  end
  check_counts(counts, 2, "2 ready sends")
  check_runs(seq, "2 ready sends")
  assert(#x + #y == N)
end

-- every goroutine (on whatever worker) sees a fair choice too
do
  local W = math.max(go.workers(), 2)
  local res = chan(W)
  for g = 1, W do
    go(function()
      local a, b, c = closed(), closed(), closed()
      local counts = {}
      for _ = 1, N do
        local i = go.select(nil, a, b, c)
        counts[i - 1] = (counts[i - 1] or 0) + 1
      end
      res:send(counts)
    end)
  end
  for _ = 1, W do check_counts(res:recv(), 3, "3 cases in a goroutine") end
end
