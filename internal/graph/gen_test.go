package graph

import (
	"bytes"
	"fmt"
	"math/rand/v2"
)

// A genResource is one resource of a generated trace, as the generator
// meant it: what the tests expect the tools to show.
type genResource struct {
	id, trigger uint64
	typ, site   string
	leaked      bool
}

// genSites are the creation sites of generated resources, by type.
var genSites = map[string][]string{
	"TCPWRAP":             {"server.go:41 main.serve"},
	"HTTPINCOMINGMESSAGE": {"server.go:58 main.(*Server).ServeHTTP"},
	"GOROUTINE":           {"handler.go:23 main.fetchUser", "handler.go:31 main.fetchOrders", "cache.go:77 main.(*Cache).refresh"},
	"Timeout":             {"handler.go:40 main.withDeadline"},
	"CHANSEND":            {"queue.go:19 main.(*Queue).Push"},
	"POOLTASK":            {"pool.go:12 main.(*Pool).Submit"},
}

// genTrace writes a deterministic trace of a made-up HTTP server that
// accepted conns connections: each conn carries one request, which starts
// goroutines, timers, queue pushes and pool tasks, some of which start
// more. About one resource in forty is never destroyed.
func genTrace(conns int, seed uint64) ([]byte, []genResource) {
	rng := rand.New(rand.NewPCG(seed, 1))
	var buf bytes.Buffer
	var res []genResource
	ts := 0.0
	next := uint64(2)
	tick := func() float64 { ts += 1 + float64(rng.IntN(5000))/1000; return ts }
	fmt.Fprintf(&buf, `[{"name":"process_name","ph":"M","pid":7,"tid":0,"args":{"name":"loadgen"}}`+"\n")
	create := func(trigger uint64, typ, site string, tid int) uint64 {
		id := next
		next++
		leaked := rng.IntN(40) == 0
		res = append(res, genResource{id, trigger, typ, site, leaked})
		fmt.Fprintf(&buf, `,{"name":%q,"cat":"init","ph":"X","ts":%.3f,"dur":0,"pid":7,"tid":%d,"args":{"async_id":%d,"trigger_async_id":%d,"site":%q}}`+"\n", typ, tick(), tid, id, trigger, site)
		fmt.Fprintf(&buf, `,{"name":"trigger","cat":"flow","ph":"s","ts":%.3f,"pid":7,"tid":%d,"id":%d}`+"\n", ts, tid, id)
		fmt.Fprintf(&buf, `,{"name":%q,"cat":"resource","ph":"b","ts":%.3f,"pid":7,"tid":%d,"id":%d,"args":{"trigger_async_id":%d}}`+"\n", typ, ts, tid, id, trigger)
		return id
	}
	run := func(id uint64, typ string, tid int, body func()) {
		fmt.Fprintf(&buf, `,{"name":%q,"cat":"run","ph":"B","ts":%.3f,"pid":7,"tid":%d,"args":{"async_id":%d}}`+"\n", typ, tick(), tid, id)
		body()
		fmt.Fprintf(&buf, `,{"ph":"E","ts":%.3f,"pid":7,"tid":%d}`+"\n", tick(), tid)
	}
	destroy := func(r genResource) {
		if !r.leaked {
			fmt.Fprintf(&buf, `,{"name":%q,"cat":"resource","ph":"e","ts":%.3f,"pid":7,"tid":0,"id":%d}`+"\n", r.typ, tick(), r.id)
		}
	}
	pick := func(typ string) string { s := genSites[typ]; return s[rng.IntN(len(s))] }
	var spawn func(trigger uint64, depth, tid int)
	spawn = func(trigger uint64, depth, tid int) {
		n := rng.IntN(4)
		for range n {
			typ := []string{"GOROUTINE", "GOROUTINE", "Timeout", "CHANSEND", "POOLTASK"}[rng.IntN(5)]
			id := create(trigger, typ, pick(typ), tid)
			i := len(res) - 1
			g := 100 + int(id)
			run(id, typ, g, func() {
				if depth < 3 {
					spawn(id, depth+1, g)
				}
			})
			destroy(res[i])
		}
	}
	server := create(1, "TCPSERVERWRAP", "server.go:30 main.main", 1)
	res[len(res)-1].leaked = true // it serves until the end
	for range conns {
		c := create(server, "TCPWRAP", pick("TCPWRAP"), 1)
		ci := len(res) - 1
		req := create(c, "HTTPINCOMINGMESSAGE", pick("HTTPINCOMINGMESSAGE"), 2)
		ri := len(res) - 1
		run(req, "HTTPINCOMINGMESSAGE", 2, func() { spawn(req, 0, 2) })
		destroy(res[ri])
		destroy(res[ci])
	}
	fmt.Fprintf(&buf, `,{"name":"trace_end","ph":"M","pid":7,"tid":0,"args":{"events":0}}`+"\n]\n")
	return buf.Bytes(), res
}
