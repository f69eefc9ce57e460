-- An uncaught copy error in main.
-- expect-status: error
-- expect-message: cannot copy userdata 'FILE*' (at value .out)
local ch = chan(1)
ch:send({ out = io.tmpfile() })
