-- An uncaught error whose value is not a string still ends with status error.
-- expect-status: error
go(function() error({ code = 42 }) end)
