package rewrite

// What the companion declares for tracked channels. A tracked channel's
// element is _asyncinstrMsg[T]: the value and the CHANSEND resource of the
// send that produced it, so that the receiver of a value sees the very
// send's context. Every value sent by rewritten code carries a non-nil
// *hooksrt.Handoff (a shared, silent one while tracking is off), and the
// zero value that a closed channel yields carries nil, which is how the
// comma-ok helpers tell the two apart. Receives from timers' channels go
// through _asyncinstrKeep, _asyncinstrTimeRecv and (*hooksrt.Scope).EnterTime
// instead (see chanrw.go).
const (
	msgType       = prefix + "Msg"     // the element type of a tracked channel
	scopeType     = prefix + "Scope"   // hooksrt.Scope
	handoffType   = prefix + "Handoff" // hooksrt.Handoff
	onHelper      = prefix + "On"      // ch <- v: ch <- _asyncinstrOn(ch).Send(v, &site)
	senderType    = prefix + "Sender"  // what onHelper returns
	recvHelper    = prefix + "Recv"    // a receive with an empty handling scope
	recvOKHelper  = prefix + "RecvOK"  // its comma-ok form
	enterHelper   = prefix + "Enter"   // a receive that opens a handling scope
	enterOKHelper = prefix + "EnterOK" // its comma-ok form
	msgVar        = prefix + "M"       // the received message in a range or select
	okVar         = prefix + "OK"      // the comma-ok result of a select receive
	scopeVar      = prefix + "Sc"      // + nesting level: a function's scopes
	pendVar       = prefix + "P"       // + number: a select's send case
	insertMark    = "/*" + prefix + "Insert"

	timeChanType   = prefix + "TimeChan" // hooksrt.TimeChan
	keepHelper     = prefix + "Keep"     // keeps a timer receive's channel
	timeRecvHelper = prefix + "TimeRecv" // hooksrt.TimeRecv, returning the value
	timeVar        = prefix + "TV"       // the value received from a timer in a range or select
	tempVar        = prefix + "T"        // + number: a timer channel received from
)

// chanHelpers are the companion's declarations for tracked channels, by
// name. Each one that a package uses is declared with _asyncinstrMsg.
var chanHelpers = map[string]string{
	msgType: `// _asyncinstrMsg is the element of a tracked channel: the value sent and
// the CHANSEND resource that carries the sender's context to the receiver.
type _asyncinstrMsg[T any] struct {
	V T
	H *hooksrt.Handoff
}
`,
	scopeType:    "type _asyncinstrScope = hooksrt.Scope\n",
	timeChanType: "type _asyncinstrTimeChan = hooksrt.TimeChan\n",
	// Direct functions, not variables holding hooksrt's, so that the
	// temporary whose address they take does not escape.
	keepHelper: `func _asyncinstrKeep(p *hooksrt.TimeChan, c hooksrt.TimeChan) hooksrt.TimeChan {
	*p = c
	return c
}
`,
	timeRecvHelper: `func _asyncinstrTimeRecv[V any](p *hooksrt.TimeChan, v V) V {
	hooksrt.TimeRecv(p)
	return v
}
`,
	handoffType: "type _asyncinstrHandoff = hooksrt.Handoff\n",
	// The element type comes from the channel alone, as the send's
	// assignability does: the value may be of another type assignable to
	// it (a *T sent as an error, an untyped constant).
	onHelper: `func _asyncinstrOn[T any](chan<- _asyncinstrMsg[T]) _asyncinstrSender[T] {
	return _asyncinstrSender[T]{}
}
`,
	senderType: `// _asyncinstrSender[T] makes the messages of a channel of T: Send for a
// send statement, Pend for a select's send case, whose resource the other
// clauses cancel.
type _asyncinstrSender[T any] struct{}

func (_asyncinstrSender[T]) Send(v T, site *hooksrt.Site) _asyncinstrMsg[T] {
	return _asyncinstrMsg[T]{v, hooksrt.Send(site)}
}

func (_asyncinstrSender[T]) Pend(p **hooksrt.Handoff, v T, site *hooksrt.Site) _asyncinstrMsg[T] {
	h := hooksrt.Send(site)
	*p = h
	return _asyncinstrMsg[T]{v, h}
}
`,
	recvHelper: `func _asyncinstrRecv[T any](m _asyncinstrMsg[T]) T {
	m.H.Received()
	return m.V
}
`,
	recvOKHelper: `func _asyncinstrRecvOK[T any](m _asyncinstrMsg[T]) (T, bool) {
	m.H.Received()
	return m.V, m.H != nil
}
`,
	enterHelper: `func _asyncinstrEnter[T any](s *hooksrt.Scope, m _asyncinstrMsg[T]) T {
	s.Enter(m.H)
	return m.V
}
`,
	enterOKHelper: `func _asyncinstrEnterOK[T any](s *hooksrt.Scope, m _asyncinstrMsg[T]) (T, bool) {
	s.Enter(m.H)
	return m.V, m.H != nil
}
`,
}
