-- A script that does not compile.
-- expect-status: syntax
-- expect-message: fail_syntax.lua:5:
local ok = true
local x = = 1
