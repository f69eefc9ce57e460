// split: the Go twin of bench/split.lua. Each round copies the N-element
// array into C new chunks and starts one goroutine per chunk, which sums
// it and sends the sum back.
package main

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"time"
)

func arg(i, def int) int {
	if len(os.Args) > i {
		if v, err := strconv.Atoi(os.Args[i]); err == nil {
			return v
		}
	}
	return def
}

func main() {
	n, c, rounds := arg(1, 1000000), arg(2, 16), arg(3, 10)
	a := make([]int, n)
	for i := range a {
		a[i] = i + 1
	}
	out := make(chan int, c)
	times := make([]float64, 0, rounds)
	ok := true
	for r := 0; r < rounds; r++ {
		t0 := time.Now()
		for k := 0; k < c; k++ {
			lo, hi := k*n/c, (k+1)*n/c
			chunk := make([]int, hi-lo)
			copy(chunk, a[lo:hi])
			go func(chunk []int) {
				s := 0
				for _, v := range chunk {
					s += v
				}
				out <- s
			}(chunk)
		}
		total := 0
		for k := 0; k < c; k++ {
			total += <-out
		}
		times = append(times, time.Since(t0).Seconds())
		ok = ok && total == n*(n+1)/2
	}
	sort.Float64s(times)
	med := times[(len(times)-1)/2]
	t0, s := time.Now(), 0
	for i := 0; i < n; i++ {
		s += a[i]
	}
	serial := time.Since(t0).Seconds()
	check := "WRONG"
	if ok && s == n*(n+1)/2 {
		check = "ok"
	}
	fmt.Printf("split n=%d chunks=%d rounds=%d round_ms=%.2f ns_per_element=%.2f serial_ms=%.2f check=%s\n",
		n, c, rounds, med*1e3, med*1e9/float64(n), serial*1e3, check)
}
