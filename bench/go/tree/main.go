// tree: the Go twin of bench/tree.lua — a binary tree of goroutines, each
// node spawning two children and sending (their counts + 1) to its parent.
package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

func node(d int, out chan int) {
	if d == 0 {
		out <- 1
		return
	}
	c := make(chan int)
	go node(d-1, c)
	go node(d-1, c)
	out <- <-c + <-c + 1
}

func hwmKB() int {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "VmHWM:") {
			v, _ := strconv.Atoi(strings.Fields(sc.Text())[1])
			return v
		}
	}
	return 0
}

func main() {
	depth := 16
	if len(os.Args) > 1 {
		depth, _ = strconv.Atoi(os.Args[1])
	}
	t0 := time.Now()
	root := make(chan int)
	go node(depth, root)
	n := <-root
	el := time.Since(t0)
	check := "WRONG"
	if n == 1<<(depth+1)-1 {
		check = "ok"
	}
	fmt.Printf("tree depth=%d n=%d total_ms=%.1f peak_rss_kb=%d check=%s\n",
		depth, n, float64(el.Nanoseconds())/1e6, hwmKB(), check)
}
