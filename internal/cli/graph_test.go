package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGraph runs "asyncinstr graph" on the example trace of package
// graph's tests, in each format, to stdout and to a file, and on bad
// input.
func TestGraph(t *testing.T) {
	const trace = "../graph/testdata/draw/hooktree.json"
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("[{\"ph\":\"M\"}\n,{\"ph\":}\n]\n"), 0o644)
	for _, tc := range []struct {
		args     []string
		code     int
		out, err string
	}{
		{[]string{"graph", "-h"}, 0, "usage: asyncinstr graph", ""},
		{[]string{"graph", trace}, 0, "<svg xmlns=", ""},
		{[]string{"graph", "-format", "dot", trace}, 0, "digraph asyncinstr {", ""},
		{[]string{"graph", "-format", "html", trace}, 0, `<script type="application/json" id="trace-data">`, ""},
		{[]string{"graph", "-format", "png", trace}, 2, "", `asyncinstr: graph: unknown -format "png"`},
		{[]string{"graph"}, 2, "", "want one trace file"},
		{[]string{"graph", "-nosuchflag", trace}, 2, "", "flag provided but not defined"},
		{[]string{"graph", filepath.Join(dir, "missing.json")}, 2, "", "asyncinstr: open "},
		{[]string{"graph", bad}, 2, "", "asyncinstr: " + bad + ":2: "},
		{[]string{"graph", "-o", filepath.Join(dir, "bad.svg"), bad}, 2, "", "asyncinstr: " + bad + ":2: "},
	} {
		var out, errb bytes.Buffer
		if code := Main(tc.args, &out, &errb); code != tc.code {
			t.Errorf("Main(%q) = %d, want %d; stderr: %s", tc.args, code, tc.code, errb.String())
		}
		if !strings.Contains(out.String(), tc.out) || !strings.Contains(errb.String(), tc.err) {
			t.Errorf("Main(%q): stdout %.200q, stderr %q; want them to contain %q and %q", tc.args, out.String(), errb.String(), tc.out, tc.err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "bad.svg")); !os.IsNotExist(err) {
		t.Errorf("a failed graph left its output file: %v", err)
	}

	out := filepath.Join(dir, "tree.dot")
	var stdout, stderr bytes.Buffer
	if code := Main([]string{"graph", "-format", "dot", "-o", out, trace}, &stdout, &stderr); code != 0 {
		t.Fatalf("graph -o: exit %d: %s", code, stderr.String())
	}
	data, err := os.ReadFile(out)
	if err != nil || !bytes.HasPrefix(data, []byte("digraph asyncinstr {")) || stdout.Len() > 0 {
		t.Errorf("graph -o wrote %.100q (%v) and printed %q", data, err, stdout.String())
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Errorf("graph -o left %d files in its directory, want the trace and the output", len(ents))
	}
}
