-- expect-status: exit
-- expect-exit: 3
-- The runtime ends (os.exit with close) while goroutines wait for a
-- child, a popen pipe and a pipe: the pool's jobs stop, the waits are
-- dropped, and a child that ends meanwhile (reaped at the runtime's end)
-- wakes nobody that is gone.
go(function() go.exec({ "sleep", "0.2" }):wait() end)
go(function() local f = io.popen("sleep 0.4") f:read("a") end)
go(function() local p = go.exec({ "sleep", "0.2" }, { stdout = "pipe" }) p.stdout:receive() end)
go.sleep(0.1)
os.exit(3, true)
