-- A goroutine given a value of a module its worker cannot load fails
-- there, and the error names the module.
-- expect-status: error
-- expect-message: cannot receive 'phantom.f': module 'phantom' cannot be loaded here
package.loaded.phantom = { f = string.gmatch("a", "a") }
-- Sent (by name) while the module is loaded, received once it is gone,
-- wherever the receiver runs: a goroutine spawned with it could start
-- before the next line if main were preempted in between.
local c = chan(1)
c:send(package.loaded.phantom.f)
package.loaded.phantom = nil
go(function() local f = c:recv() f() end)
chan():recv()
