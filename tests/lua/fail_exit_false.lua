-- os.exit(false) is exit code 1.
-- expect-status: exit
-- expect-exit: 1
os.exit(false)
error("os.exit returned")
