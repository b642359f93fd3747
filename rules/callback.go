package rules

import (
	"fmt"
	"go/token"
	"strconv"
	"strings"
	"unicode"
)

// User-declared async APIs. A library that keeps callbacks and runs them
// later (a worker pool's Submit, an event emitter's On, a scheduler) is an
// async API that the built-in rules cannot know. It is declared in one of
// two ways, with the same options:
//
//   - a directive in the doc comment of the function or method that takes
//     the callback, in code that asyncinstr rewrites:
//
//     //asyncinstr:callback arg=task type=POOLTASK
//     func (p *Pool) Submit(task func()) error
//
//   - a line in the file asyncinstr.rules at the root of the main module,
//     for code that cannot be annotated (a third-party module):
//
//     callback (*github.com/panjf2000/ants/v2.Pool).Submit arg=task type=POOLTASK
//
// Either way, every callback passed there becomes a resource of the given
// type: init when the function is called, before and after around each run
// of the callback, destroy after its run (runs=once, the default) or, for a
// callback that runs any number of times (runs=many), when it is garbage
// collected. A once callback that never runs is destroyed when it is
// collected.

// DirectivePrefix starts the directive that declares an async API.
const DirectivePrefix = "//asyncinstr:callback"

// FileName is the name of the rules file, at the root of the main module.
const FileName = "asyncinstr.rules"

// DefaultCallbackType is the resource type of a declaration without type=.
const DefaultCallbackType = "CALLBACK"

// A Callback declares that a function or method runs one of its arguments,
// a function, later.
type Callback struct {
	// Func names the function or method (Pkg, Recv, Name); only a rules
	// file line sets it, a directive names the declaration it is on.
	Func Func
	Arg  string // the parameter: its name, or its index from 0
	Type string // the resource type
	Many bool   // runs=many: the callback may run any number of times
	Pos  token.Position
}

// Index returns the index of the callback's parameter among names, the
// parameter names of the function, or -1.
func (c *Callback) Index(names []string) int {
	if i, err := strconv.Atoi(c.Arg); err == nil {
		if i >= 0 && i < len(names) {
			return i
		}
		return -1
	}
	for i, n := range names {
		if n == c.Arg && n != "_" {
			return i
		}
	}
	return -1
}

// A PosError is a problem in a directive or a rules file, at a position.
type PosError struct {
	Pos token.Position
	Msg string
}

func (e *PosError) Error() string { return e.Pos.String() + ": " + e.Msg }

// ParseDirective parses the text of a comment that starts with
// DirectivePrefix, found at pos. It returns ok false for a comment that is
// not the directive (//asyncinstr:callbacks, say).
func ParseDirective(text string, pos token.Position) (c Callback, ok bool, err error) {
	rest, found := strings.CutPrefix(text, DirectivePrefix)
	if !found || rest != "" && rest[0] != ' ' && rest[0] != '\t' {
		return Callback{}, false, nil
	}
	c, err = parseOptions(rest, pos, len(DirectivePrefix))
	return c, true, err
}

// ParseFile parses the contents of a rules file. Blank lines and lines
// starting with # are ignored; every other line is
//
//	callback FUNC OPTIONS...
//
// where FUNC is pkg/path.Func, (pkg/path.Type).Method or
// (*pkg/path.Type).Method, and OPTIONS are those of the directive.
func ParseFile(filename string, src []byte) ([]Callback, error) {
	var out []Callback
	for i, line := range strings.Split(string(src), "\n") {
		pos := token.Position{Filename: filename, Line: i + 1, Column: 1}
		trimmed := strings.TrimLeftFunc(line, unicode.IsSpace)
		if trimmed == "" || trimmed[0] == '#' {
			continue
		}
		col := len(line) - len(trimmed)
		fields := fieldsAt(trimmed, col)
		if fields[0].text != "callback" {
			pos.Column = fields[0].col + 1
			return nil, &PosError{pos, fmt.Sprintf("unknown declaration %q (want callback)", fields[0].text)}
		}
		if len(fields) < 2 {
			pos.Column = len(strings.TrimRightFunc(line, unicode.IsSpace)) + 1
			return nil, &PosError{pos, "callback: missing function name"}
		}
		pos.Column = fields[1].col + 1
		f, err := parseFuncName(fields[1].text)
		if err != nil {
			return nil, &PosError{pos, err.Error()}
		}
		rest := trimmed[fields[1].col-col+len(fields[1].text):]
		c, err := parseOptions(rest, token.Position{Filename: filename, Line: i + 1}, fields[1].col+len(fields[1].text))
		if err != nil {
			return nil, err
		}
		c.Func, c.Pos = f, pos
		out = append(out, c)
	}
	return out, nil
}

type field struct {
	text string
	col  int // byte offset in the line
}

// fieldsAt splits s, which starts at byte offset off of its line, into
// space-separated fields with their offsets.
func fieldsAt(s string, off int) []field {
	var fs []field
	start := -1
	for i, r := range s + " " {
		if unicode.IsSpace(r) {
			if start >= 0 {
				fs = append(fs, field{s[start:i], off + start})
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	return fs
}

// parseOptions parses "arg=NAME [type=TYPE] [runs=once|many]": s starts
// at byte offset off of the line that pos names.
func parseOptions(s string, pos token.Position, off int) (Callback, error) {
	c := Callback{Type: DefaultCallbackType, Pos: pos}
	c.Pos.Column = off + 1
	at := func(f field) token.Position {
		p := pos
		p.Column = f.col + 1
		return p
	}
	seen := map[string]bool{}
	for _, f := range fieldsAt(s, off) {
		key, val, ok := strings.Cut(f.text, "=")
		if !ok || val == "" {
			return c, &PosError{at(f), fmt.Sprintf("malformed option %q (want key=value)", f.text)}
		}
		if seen[key] {
			return c, &PosError{at(f), fmt.Sprintf("option %s given twice", key)}
		}
		seen[key] = true
		switch key {
		case "arg":
			c.Arg = val
		case "type":
			if strings.ContainsFunc(val, func(r rune) bool { return !unicode.IsPrint(r) || r == '"' || r == '\\' }) {
				return c, &PosError{at(f), fmt.Sprintf("type %q: want printable characters, no quotes", val)}
			}
			c.Type = val
		case "runs":
			switch val {
			case "once":
			case "many":
				c.Many = true
			default:
				return c, &PosError{at(f), fmt.Sprintf("runs=%s: want once or many", val)}
			}
		default:
			return c, &PosError{at(f), fmt.Sprintf("unknown option %q (options: arg, type, runs)", key)}
		}
	}
	if c.Arg == "" {
		return c, &PosError{c.Pos, "missing arg=NAME: which parameter is the callback"}
	}
	return c, nil
}

// parseFuncName parses pkg/path.Func, (pkg/path.Type).Method and
// (*pkg/path.Type).Method.
func parseFuncName(s string) (Func, error) {
	bad := fmt.Errorf("malformed function %q (want pkg/path.Func or (*pkg/path.Type).Method)", s)
	if recv, ok := strings.CutPrefix(s, "("); ok {
		recv, name, ok := strings.Cut(recv, ").")
		if !ok || !isIdent(name) {
			return Func{}, bad
		}
		star := ""
		if r, ok := strings.CutPrefix(recv, "*"); ok {
			star, recv = "*", r
		}
		i := strings.LastIndex(recv, ".")
		if i <= 0 || !isIdent(recv[i+1:]) {
			return Func{}, bad
		}
		return Func{Pkg: recv[:i], Recv: star + recv[i+1:], Name: name}, nil
	}
	i := strings.LastIndex(s, ".")
	if i <= 0 || !isIdent(s[i+1:]) || strings.ContainsAny(s[:i], "()*") {
		return Func{}, bad
	}
	return Func{Pkg: s[:i], Name: s[i+1:]}, nil
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !unicode.IsLetter(r) && r != '_' && (i == 0 || !unicode.IsDigit(r)) {
			return false
		}
	}
	return true
}
