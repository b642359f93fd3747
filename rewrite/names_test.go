package rewrite

import (
	"bytes"
	"sort"
	"testing"
)

// allShapes returns every shape the rewriter can emit.
func allShapes() []goShape {
	var shapes []goShape
	for p := 0; p <= maxParams; p++ {
		for r := 0; r <= maxResults; r++ {
			for _, kind := range []string{"", "S", "V", "P"} {
				if kind != "" && p == 0 {
					continue
				}
				for _, wrap := range []bool{false, true} {
					shapes = append(shapes, goShape{params: p, results: r, kind: kind, wrap: wrap})
				}
				if kind == "" && p > 0 {
					shapes = append(shapes, goShape{params: p, results: r, pack: true})
				}
			}
		}
	}
	return shapes
}

// allCbShapes returns every callback shape the rewriter can emit.
func allCbShapes() []cbShape {
	var shapes []cbShape
	for p := 0; p <= maxParams; p++ {
		for r := 0; r <= maxResults; r++ {
			shapes = append(shapes, cbShape{params: p, results: r})
			if p > 0 {
				shapes = append(shapes, cbShape{params: p, results: r, variadic: true})
			}
		}
	}
	return shapes
}

func TestCbShapeNames(t *testing.T) {
	for _, s := range allCbShapes() {
		got, ok := parseCbShape(s.name())
		if !ok || got != s {
			t.Errorf("parseCbShape(%q) = %+v, %v; want %+v", s.name(), got, ok, s)
		}
	}
	for _, bad := range []string{"_asyncinstrCb", "_asyncinstrCb9", "_asyncinstrCb0V", "_asyncinstrCb1R5", "_asyncinstrCb1X", "_asyncinstrCb01", "_asyncinstrCb1R", "Cb1"} {
		if s, ok := parseCbShape(bad); ok {
			t.Errorf("parseCbShape(%q) = %+v, want no shape", bad, s)
		}
	}
}

func TestShapeNames(t *testing.T) {
	for _, s := range allShapes() {
		got, ok := parseShape(s.name())
		if !ok || got != s {
			t.Errorf("parseShape(%q) = %+v, %v; want %+v", s.name(), got, ok, s)
		}
	}
	for _, bad := range []string{"_asyncinstrRun", "_asyncinstrRun9", "_asyncinstrRun0S", "_asyncinstrRun1R5", "_asyncinstrRun1X", "_asyncinstrGo", "Run1"} {
		if s, ok := parseShape(bad); ok {
			t.Errorf("parseShape(%q) = %+v, want no shape", bad, s)
		}
	}
}

// TestCompanionCompiles generates a companion that declares every helper
// the rewriter can use, and type-checks it.
func TestCompanionCompiles(t *testing.T) {
	var helpers []string
	for _, s := range allShapes() {
		helpers = append(helpers, s.name())
	}
	for _, s := range allCbShapes() {
		helpers = append(helpers, s.name())
	}
	for h := range builtinHelpers {
		helpers = append(helpers, h)
	}
	helpers = append(helpers, goHelper, helperFor("AfterFunc"), helperFor("StopTimer"), helperFor("ResetTimer"),
		helperFor("GoFunc"), helperFor("GoFuncErr"), helperFor("TryGo"), helperFor("ContextAfterFunc"))
	sort.Strings(helpers)
	src, err := companion("main", helpers, []siteEntry{{File: "main.go", Line: 3, Func: "main.f"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := typeCheck(fuzzImporter(t), map[string][]byte{companionName: src}); err != nil {
		t.Fatalf("companion does not compile: %v\n%s", err, src)
	}
	renamed, err := companion("main", helpers, nil, map[string]bool{"hooksrt": true})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(renamed, []byte("import _asyncinstrHooksrt ")) || bytes.Contains(renamed, []byte(" hooksrt.")) {
		t.Errorf("companion for a package that declares hooksrt still uses the name:\n%s", renamed)
	}
	if _, _, _, err := typeCheck(fuzzImporter(t), map[string][]byte{companionName: renamed}); err != nil {
		t.Fatalf("renamed companion does not compile: %v\n%s", err, renamed)
	}
	sites, err := readSites(companionName, src)
	if err != nil || len(sites) != 1 || sites[0] != (siteEntry{File: "main.go", Line: 3, Func: "main.f"}) {
		t.Errorf("readSites = %v, %v", sites, err)
	}
}
