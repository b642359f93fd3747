package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/asyncinstr/asyncinstr/rewrite"
)

func TestMain_(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		code     int
		out, err string
	}{
		{[]string{"-h"}, 0, "usage: asyncinstr", ""},
		{[]string{"-h"}, 0, "contextafterfunc", ""},
		{[]string{"-version"}, 0, "asyncinstr " + Version, ""},
		{[]string{"-nosuchflag"}, 2, "", "flag provided but not defined"},
		{[]string{"-rules", "go,nosuchrule"}, 2, "", `unknown rule "nosuchrule"`},
		{[]string{"-w", "-o", "x"}, 2, "", "cannot be used together"},
	} {
		var out, errb bytes.Buffer
		if code := Main(tc.args, &out, &errb); code != tc.code {
			t.Errorf("Main(%q) = %d, want %d", tc.args, code, tc.code)
		}
		if !strings.Contains(out.String(), tc.out) || !strings.Contains(errb.String(), tc.err) {
			t.Errorf("Main(%q): stdout %q, stderr %q; want them to contain %q and %q", tc.args, out.String(), errb.String(), tc.out, tc.err)
		}
	}
}

// TestWriteAllIsAllOrNothing checks that one file that cannot be written
// stops the run before any file changes, and leaves no temporary file.
func TestWriteAllIsAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.go"), filepath.Join(dir, "b.go")
	os.WriteFile(a, []byte("a"), 0o644)
	os.WriteFile(b, []byte("b"), 0o444)
	err := writeAll([]rewrite.Change{
		{Path: a, Old: []byte("a"), New: []byte("A")},
		{Path: b, Old: []byte("b"), New: []byte("B")},
		{Path: filepath.Join(dir, "new.go"), New: []byte("new")},
	})
	if err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Fatalf("writeAll = %v, want a read-only error", err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		t.Errorf("directory holds %d entries after a failed write, want the 2 originals", len(ents))
	}
	if data, _ := os.ReadFile(a); string(data) != "a" {
		t.Errorf("a.go = %q after a failed write", data)
	}
}

// TestWriteAllKeepsModes checks that a rewritten file keeps its mode and a
// removed file goes.
func TestWriteAllKeepsModes(t *testing.T) {
	dir := t.TempDir()
	a, gone := filepath.Join(dir, "a.go"), filepath.Join(dir, "gone.go")
	os.WriteFile(a, []byte("a"), 0o600)
	os.WriteFile(gone, []byte("x"), 0o644)
	if err := writeAll([]rewrite.Change{{Path: a, Old: []byte("a"), New: []byte("A")}, {Path: gone, Old: []byte("x")}}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(a)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("a.go mode = %v (%v), want 0600", fi.Mode(), err)
	}
	if _, err := os.Stat(gone); !os.IsNotExist(err) {
		t.Errorf("gone.go still exists: %v", err)
	}
}

// TestCopyModule checks what -o copies: everything but version control,
// and never into a directory that holds something.
func TestCopyModule(t *testing.T) {
	src := t.TempDir()
	os.MkdirAll(filepath.Join(src, ".git"), 0o755)
	os.WriteFile(filepath.Join(src, ".git", "HEAD"), []byte("ref"), 0o644)
	os.MkdirAll(filepath.Join(src, "sub"), 0o755)
	os.WriteFile(filepath.Join(src, "sub", "x.go"), []byte("package sub"), 0o644)
	old := time.Now().Add(-48 * time.Hour).Truncate(time.Second)
	os.Chtimes(filepath.Join(src, "sub", "x.go"), old, old)
	dst := filepath.Join(t.TempDir(), "copy")
	if err := copyModule(src, dst); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(filepath.Join(dst, "sub", "x.go")); err != nil || string(data) != "package sub" {
		t.Errorf("sub/x.go not copied: %q, %v", data, err)
	}
	src1, err1 := os.Stat(filepath.Join(src, "sub", "x.go"))
	dst1, err2 := os.Stat(filepath.Join(dst, "sub", "x.go"))
	if err1 != nil || err2 != nil || !src1.ModTime().Equal(dst1.ModTime()) {
		t.Errorf("copy does not keep the modification time: %v, %v (%v, %v)", src1.ModTime(), dst1.ModTime(), err1, err2)
	}
	if _, err := os.Stat(filepath.Join(dst, ".git")); !os.IsNotExist(err) {
		t.Errorf(".git copied: %v", err)
	}
	if err := copyModule(src, dst); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("copy into a non-empty directory: %v", err)
	}
}
