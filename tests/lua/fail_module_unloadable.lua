-- A goroutine given a value of a module its worker cannot load fails
-- there, and the error names the module.
-- expect-status: error
-- expect-message: cannot receive 'phantom.f': module 'phantom' cannot be loaded here
package.loaded.phantom = { f = string.gmatch("a", "a") }
go(function(f) f() end, package.loaded.phantom.f)
package.loaded.phantom = nil      -- before the goroutine starts (or on another worker)
chan():recv()
