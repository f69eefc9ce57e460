// pool: the Go twin of bench/pool.lua — 8 goroutines range over a jobs
// channel of 1 KiB strings and send a checksum of each back.
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	n, nw := 100000, 8
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	if len(os.Args) > 2 {
		nw, _ = strconv.Atoi(os.Args[2])
	}
	job := strings.Repeat("x", 1023)
	t0 := time.Now()
	jobs, results := make(chan string, 64), make(chan int, 64)
	for w := 0; w < nw; w++ {
		go func() {
			for s := range jobs {
				results <- len(s) + int(s[0])
			}
			results <- -1
		}()
	}
	go func() {
		for i := 1; i <= n; i++ {
			jobs <- job + string(rune(48+i%10))
		}
		close(jobs)
	}()
	sum, left := 0, nw
	for left > 0 {
		r := <-results
		if r < 0 {
			left--
		} else {
			sum += r
		}
	}
	el := time.Since(t0)
	check := "WRONG"
	if sum == n*(1024+120) {
		check = "ok"
	}
	fmt.Printf("pool n=%d workers=%d sum=%d spread=%d ns_per_job=%.1f total_ms=%.1f check=%s\n",
		n, nw, sum, nw, float64(el.Nanoseconds())/float64(n), float64(el.Nanoseconds())/1e6, check)
}
