-- Ping-pong: two goroutines hit a ball back and forth over unbuffered
-- channels (from the Go talk "Advanced Go Concurrency Patterns"). The ball
-- is a table: it is copied at every hit, so each player holds its own copy
-- and only what travels on the channel counts.
-- Run: lungo samples/pingpong.lua [hits]
local HITS = tonumber(arg and arg[1]) or 10000

-- each player waits on its own channel and hits back into the other's
local function player(name, mine, other, verbose_until, finished)
  while true do
    local ball, ok = mine:recv()
    if not ok then break end                   -- closed: game over
    ball.hits = ball.hits + 1
    ball.last = name
    if ball.hits <= verbose_until then print(string.format("%s %d", name, ball.hits)) end
    if ball.hits >= ball.limit then
      finished:send(ball)
    else
      other:send(ball)
    end
  end
end

local function game(hits, verbose_until)
  local to_ping, to_pong, finished = chan(), chan(), chan()
  go(player, "ping", to_ping, to_pong, verbose_until, finished)
  go(player, "pong", to_pong, to_ping, verbose_until, finished)
  local t0 = go.now()
  to_ping:send({ hits = 0, limit = hits })     -- serve
  local ball = finished:recv()
  local dt = go.now() - t0
  to_ping:close()
  to_pong:close()
  return ball, dt
end

local ball = game(6, 6)
print(string.format("after %d hits the ball's last hit was by %s", ball.hits, ball.last))

local ball2, dt = game(HITS, 0)
print(string.format("a longer rally: %d hits, the ball ended with %d", HITS, ball2.hits))
print(string.format("# %.3f s, %.2f us per hit", dt, dt * 1e6 / HITS))
