package toolexec

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// link adds the runtime and its dependencies to the linker's importcfg,
// unless the build has them already (its module requires the runtime).
// Instrumented packages refer to the runtime without the go command
// knowing; extra entries are harmless to a program that does not.
func link(args []string, stdout, stderr io.Writer) int {
	idx, inline := 0, false
	for i := 1; i < len(args); i++ {
		switch {
		case args[i] == "-importcfg" && i+1 < len(args):
			idx = i + 1
		case strings.HasPrefix(args[i], "-importcfg="):
			idx, inline = i, true
		}
	}
	if idx == 0 {
		return run(args, stdout, stderr)
	}
	path := strings.TrimPrefix(args[idx], "-importcfg=")
	newArgs, err := linkArgs(args, idx, inline, path)
	if err != nil {
		fmt.Fprintf(stderr, "asyncinstr: linking %s: %v\n", os.Getenv("TOOLEXEC_IMPORTPATH"), err)
		return 1
	}
	return run(newArgs, stdout, stderr)
}

func linkArgs(args []string, idx int, inline bool, path string) ([]string, error) {
	cfg, err := readImportcfg(path)
	if err != nil {
		return nil, err
	}
	// A program that calls hooksnet or hookshttp links net or net/http.
	pkgs := runtimePackages(func(name string) bool {
		_, ok := cfg.files[map[string]string{"hooksnet": "net", "hookshttp": "net/http"}[name]]
		return ok
	})
	if cfg.hasRuntime(pkgs) {
		return args, nil
	}
	rb, err := runtimeFor(args[0], true, cfg, pkgs)
	if err != nil {
		return nil, err
	}
	data, added := cfg.with(rb.Packages)
	if !added {
		return args, nil
	}
	newCfg := filepath.Join(filepath.Dir(path), "asyncinstr-importcfg.link")
	if err := os.WriteFile(newCfg, data, 0o666); err != nil {
		return nil, err
	}
	args = slices.Clone(args)
	if inline {
		args[idx] = "-importcfg=" + newCfg
	} else {
		args[idx] = newCfg
	}
	return args, nil
}
