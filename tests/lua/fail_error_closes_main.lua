-- The main chunk's to-be-closed variables are closed, with its error,
-- before the program ends with that error, as lua does.
-- expect-status: error
-- expect-message: fail_error_closes_main.lua:10: main failed
-- expect-message: (and while closing: closed with
-- expect-regex: closed with [^ ]*fail_error_closes_main.lua:10: main failed\)$
local x <close> = setmetatable({}, { __close = function(_, err)
  error("closed with " .. tostring(err), 0)
end })
error("main failed")
