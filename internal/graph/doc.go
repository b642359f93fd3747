// Package graph reads the trace file that an instrumented program writes
// (docs/trace-format.md) and draws its trigger tree: every resource under
// the resource that caused it, with its type, creation site, lifetime and
// run time, and the resources that were never destroyed marked.
//
// It is what "asyncinstr graph" runs. A run's trace answers "why does this
// goroutine exist?" one event at a time; the tree answers it at a glance,
// in three forms: DOT for Graphviz users, an SVG that the package lays out
// itself (no external tool needed), and a self-contained HTML page to
// explore trees too large to draw (collapse, expand, search).
//
// The reader streams the file, so that its memory grows with the number
// of resources, not of events, and accepts the file that a crashed program
// leaves (no closing bracket, possibly a last event cut short).
package graph
