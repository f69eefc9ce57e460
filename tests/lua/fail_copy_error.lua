-- An uncaught copy error in main.
-- expect-status: error
-- expect-message: cannot copy userdata (at value .out)
local ch = chan(1)
ch:send({ out = io.stdout })
