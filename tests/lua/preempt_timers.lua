-- A goroutine that computes without ever blocking does not keep a timer
-- from waking a sleeper on its worker: a due timer counts as waiting work,
-- so the spinner is preempted (every 10 ms) and the sleeper runs within a
-- few preemption periods, whatever the worker count. The bound below is
-- far above that and far below what happened before: a sleep that never
-- returned (1 worker) or took over a second (2 workers). Spinners stop on
-- their own after SPIN seconds, so a broken runtime fails this test
-- instead of hanging it.
-- Under a sanitizer (LUNGO_TEST_SLOW, set by tests/test_lua.c) every step
-- is several times slower: both scale.
local SLOW = tonumber(os.getenv("LUNGO_TEST_SLOW")) or 1
local SPIN = 3 * SLOW   -- seconds a spinner runs at most
local BOUND = 0.5 * SLOW  -- seconds a 50 ms sleep may take

local function spinner(stop, started)
  local deadline = go.now() + SPIN
  started:send(true)
  -- go.select polls (never blocks) and, being C, lets the preemption
  -- signal in under ThreadSanitizer too (see preempt.lua)
  while go.now() < deadline and go.select(stop, go.default) == 2 do end
end

-- Runs `n` spinners, waits until `wait` of them run, calls body, stops them.
-- Main, woken by a spinner that goes on computing on its worker, gets its
-- turn soon too. (A goroutine spawns them: main itself, preempted in a
-- long spawning loop as under ThreadSanitizer, would wait behind the
-- spinners not started yet, which is another matter.)
local function with_spinners(n, wait, body)
  local stop, started = chan(), chan(n)
  local t0 = go.now()
  go(function(f, k, st, on)
    for _ = 1, k do go(f, st, on) end
  end, spinner, n, stop, started)
  for _ = 1, wait do started:recv() end
  local took = go.now() - t0
  assert(took < BOUND, string.format("waiting for %d spinner(s) to start took %.3f s", wait, took))
  body()
  stop:close()
end

local function timed_sleep(what)
  local t0 = go.now()
  go.sleep(0.05)
  local took = go.now() - t0
  assert(took >= 0.049, what .. ": woke early")
  assert(took < BOUND, string.format("%s: a 50 ms sleep took %.3f s", what, took))
end

local workers = go.workers()

-- one spinner beside main
with_spinners(1, 1, function() timed_sleep("one spinner") end)

-- a spinner on every worker: no idle worker is left to run the timer
with_spinners(workers, workers, function()
  timed_sleep("a spinner per worker")
end)

-- several sleepers at once, each reporting how long its sleep took
with_spinners(workers, 1, function()
  local took = chan(8)
  for i = 1, 8 do
    go(function(k)
      local t0 = go.now()
      go.sleep(0.05)
      took:send({ k, go.now() - t0 })
    end, i)
  end
  timed_sleep("main among sleepers")
  for _ = 1, 8 do
    local r = took:recv()
    assert(r[2] < BOUND, string.format("sleeper %d: a 50 ms sleep took %.3f s", r[1], r[2]))
  end
end)

-- many spinners not started yet when the sleeper wakes: it does not wait
-- for each of them to have had its time slice first (a worker looks past
-- them only every 61 picks: several sleeps in a row cannot all be lucky)
with_spinners(300 * workers, 1, function()
  for i = 1, 3 do timed_sleep("behind unstarted spinners, sleep " .. i) end
end)
