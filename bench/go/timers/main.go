// timers: the Go twin of bench/timers.lua — N goroutines spawned in one
// burst, each sleeping a pseudo-random duration in [0, 100 ms) and
// measuring how late it woke.
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

func main() {
	n := 100000
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	res := make(chan time.Duration, n)
	t0 := time.Now()
	seed := int64(12345)
	for i := 0; i < n; i++ {
		seed = (seed*1103515245 + 12345) % 2147483648
		d := time.Duration(seed%100000) * time.Microsecond
		go func(d time.Duration) {
			t := time.Now()
			time.Sleep(d)
			res <- time.Since(t) - d
		}(d)
	}
	var sum, max time.Duration
	for i := 0; i < n; i++ {
		l := <-res
		sum += l
		if l > max {
			max = l
		}
	}
	el := time.Since(t0)
	fmt.Printf("timers n=%d mean_late_ms=%.2f max_late_ms=%.2f total_ms=%.1f check=ok\n",
		n, float64(sum.Nanoseconds())/float64(n)/1e6, float64(max.Nanoseconds())/1e6,
		float64(el.Nanoseconds())/1e6)
}
