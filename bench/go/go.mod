module lungo/bench/go

go 1.19
