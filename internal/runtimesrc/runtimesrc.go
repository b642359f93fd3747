// Package runtimesrc finds the source of the asyncinstr runtime module that
// this binary goes with, and fingerprints it. Source mode points a
// module's go.mod at it; compile-time mode builds it into every program and
// folds its fingerprint into the build cache keys.
package runtimesrc

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"

	"github.com/asyncinstr/asyncinstr/rules"
)

// Dir returns the directory of the runtime module: the one that
// $ASYNCINSTR_RUNTIME names, or the one in the checkout this binary was
// built from.
func Dir() (string, error) {
	if d := os.Getenv("ASYNCINSTR_RUNTIME"); d != "" {
		return check(d)
	}
	_, file, _, ok := runtime.Caller(0)
	if !ok || !filepath.IsAbs(file) {
		return "", fmt.Errorf("cannot find the asyncinstr runtime module (was asyncinstr built with -trimpath?): set ASYNCINSTR_RUNTIME to its directory")
	}
	// file is <checkout>/internal/runtimesrc/runtimesrc.go.
	return check(filepath.Join(filepath.Dir(filepath.Dir(filepath.Dir(file))), "runtime"))
}

func check(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil || !bytes.Contains(data, []byte("module "+rules.RuntimeModule+"\n")) {
		return "", fmt.Errorf("%s does not hold the module %s: set ASYNCINSTR_RUNTIME to its directory", dir, rules.RuntimeModule)
	}
	return dir, nil
}

// ToolVersion returns the module version this binary was built from, or ""
// for a local build, which has none.
func ToolVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok || bi.Main.Version == "" || bi.Main.Version == "(devel)" || strings.Contains(bi.Main.Version, "+dirty") {
		return ""
	}
	return bi.Main.Version
}

var hashes sync.Map // dir -> string

// Hash fingerprints the runtime module at dir: its go.mod and every file
// that a build of it reads (Go and assembly files, tests left out).
func Hash(dir string) (string, error) {
	if h, ok := hashes.Load(dir); ok {
		return h.(string), nil
	}
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != dir && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if name == "go.mod" || (strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go")) || strings.HasSuffix(name, ".s") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("reading the runtime module: %w", err)
	}
	sort.Strings(files)
	h := sha256.New()
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("reading the runtime module: %w", err)
		}
		rel, _ := filepath.Rel(dir, f)
		fmt.Fprintf(h, "%s %d\n", filepath.ToSlash(rel), len(data))
		h.Write(data)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	hashes.Store(dir, sum)
	return sum, nil
}
