package graph

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"time"
)

// ReadFile reads the trace file at path. See Read.
func ReadFile(path string) (*Trace, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(f, path)
}

// Read reads a trace in the format of docs/trace-format.md from r, one
// event at a time, and builds its trigger tree; name is the file name
// used in titles and errors. Malformed input is an error
// "NAME:LINE: message" at the line of the offending event.
//
// The trace of a program that died is accepted: it lacks the closing
// trace_end line and "]", and its last event may be cut short, which is
// then left out. Runs still open at the end count until the last event.
// An "E" with no open run on its goroutine closes a run that began before
// tracing did, and is ignored, as are events that the tree does not use.
func Read(r io.Reader, name string) (*Trace, error) {
	lr := newLineReader(r)
	dec := json.NewDecoder(lr)
	b := newBuilder(name)
	tok, err := dec.Token()
	if err == io.EOF {
		return nil, fmt.Errorf("%s: empty file, not a trace", name)
	}
	if err != nil {
		return nil, fmt.Errorf("%s:%d: %w", name, lr.lineAt(dec.InputOffset()), err)
	}
	if tok != json.Delim('[') {
		return nil, fmt.Errorf("%s:%d: not a trace: want a JSON array of events", name, lr.lineAt(dec.InputOffset()))
	}
	cut := false // the file stops inside the array
	for !cut && dec.More() {
		line := lr.lineAt(dec.InputOffset())
		var ev event
		err := dec.Decode(&ev)
		switch {
		case (err == io.EOF || err == io.ErrUnexpectedEOF) && !b.ended:
			cut = true // the last event of a program that died while writing it
		case err != nil:
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		default:
			if err := b.add(&ev, line); err != nil {
				return nil, fmt.Errorf("%s:%d: %w", name, line, err)
			}
		}
	}
	if !cut {
		switch _, err := dec.Token(); {
		case err == io.EOF:
			cut = true
		case err != nil:
			return nil, fmt.Errorf("%s:%d: %w", name, lr.lineAt(dec.InputOffset()), err)
		default:
			if _, err := dec.Token(); err != io.EOF {
				return nil, fmt.Errorf("%s:%d: data after the end of the array", name, lr.lineAt(dec.InputOffset()))
			}
		}
	}
	t, err := b.finish()
	if err != nil {
		return nil, err
	}
	t.Complete = b.ended && !cut
	return t, nil
}

// An event is one line of the trace, with the fields the tree uses.
type event struct {
	Name string  `json:"name"`
	Cat  string  `json:"cat"`
	Ph   string  `json:"ph"`
	Ts   float64 `json:"ts"`
	Tid  int64   `json:"tid"`
	ID   *uint64 `json:"id"`
	Args struct {
		AsyncID *uint64 `json:"async_id"`
		Trigger *uint64 `json:"trigger_async_id"`
		Site    string  `json:"site"`
		Name    string  `json:"name"`
	} `json:"args"`
}

// time returns the event's ts, in microseconds, as a duration.
func (ev *event) time() time.Duration {
	return time.Duration(math.Round(ev.Ts * 1e3))
}

// A builder collects the nodes as the events arrive.
type builder struct {
	name    string
	process string
	nodes   map[uint64]*Node
	inited  map[uint64]bool
	open    map[int64][]openRun // the runs begun and not ended, per goroutine
	end     time.Duration
	ended   bool // trace_end seen
}

type openRun struct {
	n     *Node
	begin time.Duration
}

func newBuilder(name string) *builder {
	return &builder{
		name:   name,
		nodes:  map[uint64]*Node{},
		inited: map[uint64]bool{},
		open:   map[int64][]openRun{},
	}
}

// node returns the node of id, made on first sight; typ names it until its
// init says otherwise.
func (b *builder) node(id uint64, typ string) *Node {
	n := b.nodes[id]
	if n == nil {
		n = &Node{ID: id, Type: typ}
		b.nodes[id] = n
	}
	return n
}

func (b *builder) add(ev *event, line int) error {
	if ev.Ph != "M" {
		b.end = max(b.end, ev.time())
	}
	switch {
	case ev.Ph == "M" && ev.Name == "process_name":
		b.process = ev.Args.Name
	case ev.Ph == "M" && ev.Name == "trace_end":
		b.ended = true
	case ev.Ph == "X" && ev.Cat == "init":
		return b.init(ev, line)
	case ev.Ph == "e" && ev.Cat == "resource":
		if ev.ID == nil {
			return errors.New("destroy event (ph \"e\") without id")
		}
		n := b.node(*ev.ID, ev.Name)
		if n.Destroyed {
			return fmt.Errorf("second destroy of async_id %d", n.ID)
		}
		n.Destroyed, n.Destroy = true, ev.time()
	case ev.Ph == "B":
		if ev.Args.AsyncID == nil {
			return errors.New("run event (ph \"B\") without args.async_id")
		}
		n := b.node(*ev.Args.AsyncID, ev.Name)
		b.open[ev.Tid] = append(b.open[ev.Tid], openRun{n, ev.time()})
	case ev.Ph == "E":
		stack := b.open[ev.Tid]
		if len(stack) == 0 {
			return nil // the end of a run that began before tracing did
		}
		r := stack[len(stack)-1]
		b.open[ev.Tid] = stack[:len(stack)-1]
		r.n.Run += ev.time() - r.begin
		r.n.Runs++
	}
	return nil
}

// init makes the node of an init event.
func (b *builder) init(ev *event, line int) error {
	if ev.Args.AsyncID == nil || ev.Args.Trigger == nil {
		return errors.New("init event without args.async_id and args.trigger_async_id")
	}
	id, trigger := *ev.Args.AsyncID, *ev.Args.Trigger
	switch {
	case id <= 1:
		return fmt.Errorf("init of async_id %d, which is reserved for the %s", id, map[uint64]string{0: "unknown context", 1: "root"}[id])
	case trigger == id:
		return fmt.Errorf("async_id %d is its own trigger", id)
	case b.inited[id]:
		return fmt.Errorf("second init of async_id %d (the first is on line %d)", id, b.nodes[id].line)
	}
	b.inited[id] = true
	n := b.node(id, ev.Name)
	n.Type, n.Site, n.Init, n.Trigger, n.line = ev.Name, ev.Args.Site, ev.time(), trigger, line
	b.node(trigger, "?")
	return nil
}

// finish links the nodes into trees.
func (b *builder) finish() (*Trace, error) {
	for _, stack := range b.open {
		for _, r := range stack {
			r.n.Run += b.end - r.begin
			r.n.Runs++
		}
	}
	root := b.node(1, "ROOT")
	root.Kind, root.Type = Root, "ROOT"
	unknown := b.node(0, "UNKNOWN")
	unknown.Kind, unknown.Type = Unknown, "UNKNOWN"
	for id, n := range b.nodes {
		if n.Synthetic() {
			continue
		}
		if !b.inited[id] {
			n.Kind, n.Trigger = BeforeTrace, 1
			if n.Type == "" {
				n.Type = "?"
			}
		}
		p := b.nodes[n.Trigger]
		p.Children = append(p.Children, n)
	}
	byTime := func(a, b *Node) int {
		if a.Init != b.Init {
			return int(a.Init - b.Init)
		}
		return cmp.Compare(a.ID, b.ID)
	}
	reached := 0
	roots := []*Node{root, unknown}
	walk(roots, func(n *Node) {
		reached++
		slices.SortFunc(n.Children, byTime)
	})
	if reached != len(b.nodes) {
		return nil, b.cycle(roots)
	}
	t := &Trace{Name: b.name, Process: b.process, Roots: roots[:1], End: b.end}
	if len(unknown.Children) > 0 || unknown.Runs > 0 {
		t.Roots = roots
	}
	return t, nil
}

// cycle reports the resources that the roots do not reach: their
// triggers form a cycle.
func (b *builder) cycle(roots []*Node) error {
	seen := map[*Node]bool{}
	walk(roots, func(n *Node) { seen[n] = true })
	var first *Node
	for _, n := range b.nodes {
		if !seen[n] && (first == nil || n.line < first.line) {
			first = n
		}
	}
	return fmt.Errorf("%s:%d: async_id %d descends from itself: its triggers form a cycle", b.name, first.line, first.ID)
}
