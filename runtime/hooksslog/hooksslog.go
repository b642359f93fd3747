//go:build go1.25

// Package hooksslog adds asyncinstr's execution contexts to log/slog
// records: a Handler wraps any slog.Handler and adds to every record the
// execution and trigger ids of the context it was logged in, and the stores
// of the AsyncLocalStorage instances it was given. A request id stored with
// Run at the top of a handler then appears in every line that the request's
// goroutines, timers and handoff receivers log.
//
//	reqID := hooksrt.NewAsyncLocalStorage[string]()
//	h := hooksslog.NewHandler(slog.NewJSONHandler(os.Stderr, nil), &hooksslog.Options{
//		Stores: []hooksslog.Store{hooksslog.StoreOf("request", reqID)},
//	})
//	slog.SetDefault(slog.New(h))
//
// The context is the logging goroutine's own; where that is unknown (code
// that asyncinstr did not rewrite, outside any scope), the one that the
// record's context.Context carries (see hooksrt.WithContext) is used, as
// hooksrt.ExecutionAsyncIDContext describes.
//
// The package is apart from hooksrt so that only programs that use it link
// log/slog.
package hooksslog

import (
	"context"
	"log/slog"

	"github.com/asyncinstr/asyncinstr/runtime/hooksrt"
)

// Default attribute keys of the ids.
const (
	ExecutionKey = "async_id"
	TriggerKey   = "trigger_async_id"
)

// Options configures a Handler. The zero value adds the two ids under
// their default keys.
type Options struct {
	// ExecutionKey and TriggerKey name the attributes of the execution and
	// trigger ids; empty means the defaults. "-" leaves that id out.
	ExecutionKey, TriggerKey string
	// Stores are added after the ids, in order, each only where it has a
	// store.
	Stores []Store
}

// A Store is an AsyncLocalStorage whose store a Handler adds to records
// under a key. StoreOf makes one.
type Store interface {
	attr(ctx context.Context) (slog.Attr, bool)
}

// StoreOf returns a Store that adds als's store under key, as slog.Any
// would (a store that implements slog.LogValuer is resolved).
func StoreOf[T any](key string, als *hooksrt.AsyncLocalStorage[T]) Store {
	return storeOf[T]{key, als}
}

type storeOf[T any] struct {
	key string
	als *hooksrt.AsyncLocalStorage[T]
}

func (s storeOf[T]) attr(ctx context.Context) (slog.Attr, bool) {
	v, ok := s.als.GetStoreContext(ctx)
	if !ok {
		return slog.Attr{}, false
	}
	return slog.Any(s.key, v), true
}

// A Handler adds execution contexts to the records it passes on (see the
// package comment). It is safe for concurrent use if the handler it wraps
// is.
type Handler struct {
	next             slog.Handler
	execKey, trigKey string
	stores           []Store
}

// NewHandler returns a Handler that passes records on to next; opts may be
// nil.
func NewHandler(next slog.Handler, opts *Options) *Handler {
	h := &Handler{next: next, execKey: ExecutionKey, trigKey: TriggerKey}
	if opts != nil {
		if opts.ExecutionKey != "" {
			h.execKey = opts.ExecutionKey
		}
		if opts.TriggerKey != "" {
			h.trigKey = opts.TriggerKey
		}
		h.stores = opts.Stores
	}
	return h
}

// Enabled reports whether the wrapped handler handles records at level.
func (h *Handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle adds the ids and stores of the calling goroutine's execution
// context (or ctx's, where the goroutine's is unknown) to r and passes it
// on. Like any attribute added to a record, they land inside the groups
// that WithGroup opened.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if h.execKey != "-" {
		r.AddAttrs(slog.Uint64(h.execKey, hooksrt.ExecutionAsyncIDContext(ctx)))
	}
	if h.trigKey != "-" {
		r.AddAttrs(slog.Uint64(h.trigKey, hooksrt.TriggerAsyncIDContext(ctx)))
	}
	for _, s := range h.stores {
		if a, ok := s.attr(ctx); ok {
			r.AddAttrs(a)
		}
	}
	return h.next.Handle(ctx, r)
}

// WithAttrs returns a Handler that wraps next.WithAttrs(attrs).
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.next = h.next.WithAttrs(attrs)
	return &c
}

// WithGroup returns a Handler that wraps next.WithGroup(name).
func (h *Handler) WithGroup(name string) slog.Handler {
	c := *h
	c.next = h.next.WithGroup(name)
	return &c
}
