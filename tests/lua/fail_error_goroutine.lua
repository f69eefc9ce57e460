-- An uncaught error in a spawned goroutine (a grandchild, while main and the
-- child are blocked) ends the program with an error, not a deadlock.
-- expect-status: error
-- expect-regex: goroutine ([2-9]|[1-9][0-9]+):
-- expect-message: fail_error_goroutine.lua:11: boom from a grandchild
-- expect-message: stack traceback
local never = chan()
go(function()
  go(function()
    local t = {}
    error("boom from a grandchild")
  end)
  never:recv()
end)
never:recv()
