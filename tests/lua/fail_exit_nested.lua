-- os.exit inside pcall inside a nested coroutine is not caught: it exits.
-- expect-status: exit
-- expect-exit: 6
local never = chan()
go(function()
  local co = coroutine.wrap(function()
    pcall(os.exit, 6)
    error("os.exit was caught by pcall")
  end)
  co()
  error("os.exit returned")
end)
never:recv()
