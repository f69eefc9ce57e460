// mutex: the Go twin of bench/mutex.lua — G goroutines each doing N
// lock/unlock pairs on one sync.Mutex, counting their own pairs inside.
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

func main() {
	n, g := 200000, 4
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	if len(os.Args) > 2 {
		g, _ = strconv.Atoi(os.Args[2])
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	done := make(chan int, g)
	t0 := time.Now()
	wg.Add(g)
	for i := 0; i < g; i++ {
		go func() {
			c := 0
			for j := 0; j < n; j++ {
				mu.Lock()
				c++
				mu.Unlock()
			}
			done <- c
			wg.Done()
		}()
	}
	wg.Wait()
	el := time.Since(t0)
	total := 0
	for i := 0; i < g; i++ {
		total += <-done
	}
	check := "WRONG"
	if total == n*g {
		check = "ok"
	}
	fmt.Printf("mutex n=%d g=%d total_ms=%.1f ns_per_pair=%.1f check=%s\n",
		n, g, float64(el.Nanoseconds())/1e6, float64(el.Nanoseconds())/float64(n*g), check)
}
