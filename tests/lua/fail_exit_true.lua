-- os.exit(true) is exit code 0, still reported as an exit.
-- expect-status: exit
-- expect-exit: 0
os.exit(true)
error("os.exit returned")
