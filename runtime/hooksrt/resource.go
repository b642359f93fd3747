//go:build go1.25

package hooksrt

// Resources that asyncinstr's other runtime packages create (hooksnet for
// package net, hookshttp for net/http). Those packages live apart so that a
// program links net or net/http only if it uses them; they build their
// resource objects around an embedded Resource and drive its lifecycle
// through the methods below. These are not meant for user code, which has
// AsyncResource.

// Tracking reports whether execution contexts are being tracked: while it
// is false, instrumented code creates no resources. Reading it does not
// switch tracking on.
//
// Called by asyncinstr's runtime packages.
func Tracking() bool { return tracking.Load() }

// InUnknownContext reports whether the calling goroutine runs in the
// unknown context (id 0): a goroutine that code asyncinstr did not rewrite
// started, such as one of net/http's, outside any scope. It does not switch
// tracking on.
//
// Called by asyncinstr's runtime packages.
func InUnknownContext() bool { return currentFrame().id == 0 }

// Init makes r, the Resource embedded in obj, a new resource of type typ
// created at site by the calling goroutine, and emits init with obj as the
// resource object. trigger 0 means the caller's execution id. While
// tracking is off it does nothing and r stays inert: its other methods
// then do nothing either.
//
// Called by asyncinstr's runtime packages.
func (r *Resource) Init(typ string, trigger uint64, site *Site, obj Object) {
	if !tracking.Load() {
		return
	}
	r.Site = site
	initCore(&r.core, typ, trigger, obj)
}

// InitIn is Init for a resource that parent caused although the calling
// goroutine creates it: its trigger is parent, and it captures parent's
// AsyncLocalStorage frame rather than the caller's. An HTTP request that a
// server's listener received, on a goroutine of net/http's, is one. A
// parent that is not Live leaves it to Init.
//
// Called by asyncinstr's runtime packages.
func (r *Resource) InitIn(typ string, parent *Resource, site *Site, obj Object) {
	if !parent.Live() {
		r.Init(typ, 0, site, obj)
		return
	}
	r.Site = site
	fillCore(&r.core, typ, parent.id, parent.als, obj)
}

// Base returns r. Resource objects that embed a Resource (those of
// hooksnet and hookshttp) have it too, so that tools find their common
// part (the Site, the ids) whatever their type.
func (r *Resource) Base() *Resource { return r }

// Live reports whether r is a resource (Init ran while tracking).
func (r *Resource) Live() bool { return r != nil && r.id != 0 }

// Enter closes s's open scope, if any, and opens r's: before, on the
// calling goroutine; s's Exit emits after. Several goroutines may be in r's
// scope at once. Enter reports false, and opens nothing, once r has been
// disposed of (see Dispose).
//
// Called by asyncinstr's runtime packages.
func (r *Resource) Enter(s *Scope) bool {
	s.Exit()
	if !r.Live() || !r.hold() {
		return false
	}
	s.open(&r.core, false)
	s.shared = true
	return true
}

// EnterOnce closes s's open scope, if any, and opens r's, which is r's
// only one: s's Exit emits after and then destroy.
//
// Called by asyncinstr's runtime packages.
func (r *Resource) EnterOnce(s *Scope) {
	s.Exit()
	if r.Live() {
		s.open(&r.core, true)
	}
}

// Dispose destroys r once no scope that Enter opened on it is open: at once,
// or when the last of them ends, so that no before or after follows the
// destroy. Only the first Dispose counts.
//
// Called by asyncinstr's runtime packages.
func (r *Resource) Dispose() {
	if r.Live() {
		r.close()
	}
}
