-- An uncaught error in the main chunk, with other goroutines blocked.
-- expect-status: error
-- expect-message: fail_error_main.lua:9: main chunk failed
-- expect-message: stack traceback
local never = chan()
for _ = 1, 3 do
  go(function() never:recv() end)
end
error("main chunk failed")
