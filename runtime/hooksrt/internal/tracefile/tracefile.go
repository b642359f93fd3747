// Package tracefile writes asynchronous events as a Chrome trace-event file
// (the JSON Array Format), which Perfetto and chrome://tracing open and
// asyncinstr graph draws. The layout and every event are specified in the
// asyncinstr repository's docs/trace-format.md.
//
// A Writer streams: events go into one of a fixed number of buffers chosen
// by goroutine id, and a buffer is written to the file when it fills, when
// it is older than FlushEvery, and at Close. Memory therefore stays bounded
// however long the program runs, each goroutine's events reach the file in
// the order they happened, and a program that dies without closing the
// writer loses at most the last FlushEvery of events; the file it leaves is
// still a trace that the readers accept (they allow a missing "]").
package tracefile

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

const (
	// shards is the number of buffers; a power of two.
	shards = 16
	// shardEvents is how many events a buffer holds before it is
	// written out.
	shardEvents = 256
	// FlushEvery bounds how long an event waits in a buffer.
	FlushEvery = 100 * time.Millisecond
)

// A Writer writes one trace file. Its methods are safe for concurrent use;
// tid is the id of the goroutine the event happens on.
//
// Recording an event only copies its fields into a buffer: the JSON is
// formatted when the buffer is written out. This keeps the recording
// goroutine's stack shallow, which matters because the first event of a
// goroutine (its before) runs on a new, small stack that deeper
// formatting code would make the runtime grow and copy.
type Writer struct {
	mu     sync.Mutex // serialises writes to w
	w      io.Writer
	c      io.Closer
	err    error
	pid    int
	start  time.Time
	closed atomic.Bool
	timer  *time.Timer
	shards [shards]shard
}

type shard struct {
	mu      sync.Mutex
	evs     [shardEvents]event
	n       int
	out     []byte        // formatting buffer, reused
	lines   int64         // JSON lines written out
	flushed time.Duration // since start, when the buffer was last written out
	_       [64]byte      // keep shards' locks on separate cache lines
}

// An event is one recorded event, not yet formatted.
type event struct {
	ph      byte // 'X' (init and its flow and lifetime), 'B' (before and its flow), 'E', 'e', 'i', 'M' (a goroutine's name)
	ts      time.Duration
	tid, id uint64
	trigger uint64
	typ     string // the resource type; for 'M', the goroutine's function
	site    *Site
}

// A Site is where a resource was created, as the trace names it. Its
// fields are those of hooksrt.Site, so that a *hooksrt.Site converts to a
// *Site.
type Site struct {
	File string
	Line int
	Func string
}

// Create creates the file path and starts a trace in it for the process
// pid, named name.
func Create(path string, pid int, name string) (*Writer, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	w := New(f, pid, name)
	w.c = f
	w.timer = time.AfterFunc(FlushEvery, w.tick)
	return w, nil
}

// New starts a trace written to out. Its buffers are written out only when
// they fill and at Close: Create adds the periodic flush.
func New(out io.Writer, pid int, name string) *Writer {
	w := &Writer{w: out, pid: pid, start: time.Now()}
	b := []byte(`[{"name":"process_name","ph":"M","pid":`)
	b = strconv.AppendInt(b, int64(pid), 10)
	b = append(b, `,"tid":0,"args":{"name":`...)
	b = appendString(b, name)
	b = append(b, "}}\n"...)
	w.write(b)
	return w
}

// tick writes out the buffers that waited FlushEvery, and rearms.
func (w *Writer) tick() {
	if w.closed.Load() {
		return
	}
	now := time.Since(w.start)
	for i := range w.shards {
		s := &w.shards[i]
		s.mu.Lock()
		if s.n > 0 && now-s.flushed >= FlushEvery {
			w.flush(s, now)
		}
		s.mu.Unlock()
	}
	w.timer.Reset(FlushEvery)
}

// write appends b to the file, remembering the first error.
func (w *Writer) write(b []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return
	}
	if _, err := w.w.Write(b); err != nil {
		w.err = err
	}
}

// flush formats s's events and writes them out; s.mu is held.
func (w *Writer) flush(s *shard, now time.Duration) {
	b := s.out[:0]
	for i := range s.evs[:s.n] {
		b = w.format(b, &s.evs[i])
		s.evs[i] = event{} // keep no type or site alive
	}
	s.lines += int64(bytes.Count(b, []byte("\n")))
	s.n = 0
	w.write(b)
	s.out = b
	s.flushed = now
}

// record adds e, stamped with the current time, to the buffer of
// goroutine e.tid, and writes the buffer out if it is due. Events of a
// closed writer are dropped.
func (w *Writer) record(e event) {
	s := &w.shards[e.tid&(shards-1)]
	s.mu.Lock()
	if w.closed.Load() {
		s.mu.Unlock()
		return
	}
	e.ts = time.Since(w.start)
	s.evs[s.n] = e
	s.n++
	if s.n == shardEvents || e.ts-s.flushed >= FlushEvery {
		w.flush(s, e.ts)
	}
	s.mu.Unlock()
}

// Init records the creation of resource id of type typ, caused by
// trigger, at site (nil: unknown), on goroutine tid: the zero-length init
// slice, the start of its flow and the start of its lifetime.
func (w *Writer) Init(tid, id, trigger uint64, typ string, site *Site) {
	w.record(event{ph: 'X', tid: tid, id: id, trigger: trigger, typ: typ, site: site})
}

// Thread names goroutine tid after the function it runs.
func (w *Writer) Thread(tid uint64, fn string) {
	w.record(event{ph: 'M', tid: tid, typ: fn})
}

// Before records the start of a run of resource id on goroutine tid.
func (w *Writer) Before(tid, id uint64, typ string) {
	w.record(event{ph: 'B', tid: tid, id: id, typ: typ})
}

// After records the end of the innermost run on goroutine tid.
func (w *Writer) After(tid uint64) {
	w.record(event{ph: 'E', tid: tid})
}

// Resolve records the promiseResolve of resource id.
func (w *Writer) Resolve(tid, id uint64) {
	w.record(event{ph: 'i', tid: tid, id: id})
}

// Destroy records the end of resource id's lifetime.
func (w *Writer) Destroy(tid, id uint64, typ string) {
	w.record(event{ph: 'e', tid: tid, id: id, typ: typ})
}

// format appends the JSON lines of e.
func (w *Writer) format(b []byte, e *event) []byte {
	switch e.ph {
	case 'X':
		b = w.head(b, e, 'X')
		b = append(b, `,"dur":0,"cat":"init","name":`...)
		b = appendString(b, e.typ)
		b = append(b, `,"args":{"async_id":`...)
		b = strconv.AppendUint(b, e.id, 10)
		b = append(b, `,"trigger_async_id":`...)
		b = strconv.AppendUint(b, e.trigger, 10)
		b = appendSite(b, e.site)
		b = append(b, "}}\n"...)
		b = w.flow(b, e, 's')
		b = w.head(b, e, 'b')
		b = append(b, `,"cat":"resource","name":`...)
		b = appendString(b, e.typ)
		b = append(b, `,"id":`...)
		b = strconv.AppendUint(b, e.id, 10)
		b = append(b, `,"args":{"trigger_async_id":`...)
		b = strconv.AppendUint(b, e.trigger, 10)
		return append(b, "}}\n"...)
	case 'M':
		b = w.head(b, e, 'M')
		b = append(b, `,"name":"thread_name","args":{"name":"goroutine `...)
		b = strconv.AppendUint(b, e.tid, 10)
		b = append(b, " ("...)
		b = appendEscaped(b, e.typ)
		return append(b, ")\"}}\n"...)
	case 'B':
		b = w.head(b, e, 'B')
		b = append(b, `,"cat":"run","name":`...)
		b = appendString(b, e.typ)
		b = append(b, `,"args":{"async_id":`...)
		b = strconv.AppendUint(b, e.id, 10)
		b = append(b, "}}\n"...)
		return w.flow(b, e, 't')
	case 'E':
		return append(w.head(b, e, 'E'), "}\n"...)
	case 'i':
		b = w.head(b, e, 'i')
		b = append(b, `,"s":"t","cat":"resolve","name":"promiseResolve","args":{"async_id":`...)
		b = strconv.AppendUint(b, e.id, 10)
		return append(b, "}}\n"...)
	case 'e':
		b = w.head(b, e, 'e')
		b = append(b, `,"cat":"resource","name":`...)
		b = appendString(b, e.typ)
		b = append(b, `,"id":`...)
		b = strconv.AppendUint(b, e.id, 10)
		return append(b, "}\n"...)
	}
	panic("tracefile: unknown event phase " + string(e.ph))
}

// head starts a JSON line of phase ph for e, up to and including its tid;
// the caller adds the rest and the closing "}\n".
func (w *Writer) head(b []byte, e *event, ph byte) []byte {
	b = append(b, `,{"ph":"`...)
	b = append(b, ph, '"', ',', '"', 't', 's', '"', ':')
	b = appendMicros(b, e.ts)
	b = append(b, `,"pid":`...)
	b = strconv.AppendInt(b, int64(w.pid), 10)
	b = append(b, `,"tid":`...)
	return strconv.AppendUint(b, e.tid, 10)
}

// flow appends a step ph ('s' or 't') of e's resource's flow arrow.
func (w *Writer) flow(b []byte, e *event, ph byte) []byte {
	b = w.head(b, e, ph)
	b = append(b, `,"cat":"flow","name":"trigger","id":`...)
	b = strconv.AppendUint(b, e.id, 10)
	return append(b, "}\n"...)
}

// appendSite appends the site field, "file.go:12 main.worker".
func appendSite(b []byte, s *Site) []byte {
	if s == nil || s.File == "" {
		return b
	}
	b = append(b, `,"site":"`...)
	b = appendEscaped(b, s.File)
	b = append(b, ':')
	b = strconv.AppendInt(b, int64(s.Line), 10)
	if s.Func != "" {
		b = append(b, ' ')
		b = appendEscaped(b, s.Func)
	}
	return append(b, '"')
}

// Close writes out every buffer and the end of the trace, and closes the
// file. Events recorded after Close starts are dropped. It returns the first
// error that writing met.
func (w *Writer) Close() error {
	if w.closed.Swap(true) {
		return nil
	}
	if w.timer != nil {
		w.timer.Stop()
	}
	for i := range w.shards {
		s := &w.shards[i]
		s.mu.Lock()
		w.flush(s, 0)
		s.mu.Unlock()
	}
	w.write(fmt.Appendf(nil, `,{"name":"trace_end","ph":"M","pid":%d,"tid":0,"args":{"events":%d}}`+"\n]\n", w.pid, w.Events()))
	w.mu.Lock()
	err := w.err
	w.mu.Unlock()
	if w.c != nil {
		if cerr := w.c.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// Events returns the number of events written out so far, the metadata
// of goroutines' names included.
func (w *Writer) Events() int64 {
	var n int64
	for i := range w.shards {
		s := &w.shards[i]
		s.mu.Lock()
		n += s.lines
		s.mu.Unlock()
	}
	return n
}

// appendMicros appends d in microseconds with three decimals.
func appendMicros(b []byte, d time.Duration) []byte {
	ns := int64(d)
	b = strconv.AppendInt(b, ns/1000, 10)
	f := ns % 1000
	return append(b, '.', byte('0'+f/100), byte('0'+f/10%10), byte('0'+f%10))
}

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	return append(appendEscaped(b, s), '"')
}

// appendEscaped appends s escaped for a JSON string. Invalid UTF-8 becomes
// U+FFFD, as encoding/json does.
func appendEscaped(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return b
}
