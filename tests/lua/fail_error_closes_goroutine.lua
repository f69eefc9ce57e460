-- A goroutine that fails closes its to-be-closed variables, innermost
-- first and with its error, before the program ends with that error (as
-- lua closes the main chunk's, and Go runs a panicking goroutine's
-- deferred calls). A closing method that fails too is added to the report.
-- expect-status: error
-- expect-message: goroutine 2:
-- expect-message: fail_error_closes_goroutine.lua:19: boom
-- expect-message: (and while closing:
-- expect-message: fail_error_closes_goroutine.lua:16: closed after inner, with
-- expect-regex: closed after inner, with [^ ]*fail_error_closes_goroutine.lua:19: boom\)$
local log = chan(4)
go(function()
  local outer <close> = setmetatable({}, { __close = function(_, err)
    local first = log:recv()
    -- (sent on a buffered channel, so closing never has to park)
    error("closed after " .. first .. ", with " .. tostring(err))
  end })
  local inner <close> = setmetatable({}, { __close = function() log:send("inner") end })
  error("boom")
end)
chan():recv()
