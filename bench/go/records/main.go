// records: the Go twin of bench/records.lua. A 3-stage pipeline of
// records over channels of capacity 128; records are sent by value (the
// struct is copied, its tags slice shares its backing array).
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

type record struct {
	id    int
	name  string
	price float64
	total float64
	tags  []string
}

func main() {
	n := 200000
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	const capacity = 128
	t0 := time.Now()
	raw, priced := make(chan record, capacity), make(chan record, capacity)
	go func() {
		for i := 1; i <= n; i++ {
			raw <- record{id: i, name: "item" + strconv.Itoa(i), price: float64(i) * 1.5,
				tags: []string{"a", "b", "c"}}
		}
		close(raw)
	}()
	go func() {
		for r := range raw {
			r.total = r.price * 2 * float64(len(r.tags))
			priced <- r
		}
		close(priced)
	}()
	ids, total, bad := 0, 0.0, 0
	for r := range priced {
		ids += r.id
		total += r.total
		if r.name != "item"+strconv.Itoa(r.id) || r.tags[2] != "c" {
			bad++
		}
	}
	el := time.Since(t0).Seconds()
	want := 0.0
	for i := 1; i <= n; i++ {
		want += float64(i) * 1.5 * 2 * 3
	}
	check := "WRONG"
	if bad == 0 && ids == n*(n+1)/2 && total == want {
		check = "ok"
	}
	fmt.Printf("records n=%d ns_per_record=%.1f records_per_s=%.0f total_ms=%.1f check=%s\n",
		n, el*1e9/float64(n), float64(n)/el, el*1e3, check)
}
