package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/mod/semver"

	"github.com/asyncinstr/asyncinstr/internal/runtimesrc"
	"github.com/asyncinstr/asyncinstr/rules"
)

// runtimeGo is the go version that the runtime module declares; a module
// that requires the runtime must declare at least this one. The runtime
// keeps it low (its files ask for a Go 1.25 toolchain with build
// constraints instead), so that requiring it rarely raises a module's
// version, and never past the change of loop variable semantics in 1.22.
const runtimeGo = "1.21"

// goMod is the part of `go mod edit -json` that asyncinstr reads.
type goMod struct {
	Module  struct{ Path string }
	Go      string
	Require []struct{ Path, Version string }
	Godebug []struct{ Key, Value string }
	Replace []struct {
		Old, New struct{ Path, Version string }
	}
}

func readGoMod(root string) (*goMod, error) {
	out, err := goCmd(root, "mod", "edit", "-json")
	if err != nil {
		return nil, err
	}
	var m goMod
	if err := json.Unmarshal(out, &m); err != nil {
		return nil, fmt.Errorf("reading %s: %w", filepath.Join(root, "go.mod"), err)
	}
	return &m, nil
}

func goCmd(dir string, args ...string) ([]byte, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// A modChange is the go mod edit that makes a module require the runtime.
type modChange struct {
	root string
	args []string
	says []string
}

func (m *modChange) apply() error {
	_, err := goCmd(m.root, append([]string{"mod", "edit"}, m.args...)...)
	return err
}

func (m *modChange) String() string {
	return "go.mod: " + strings.Join(m.says, "; ")
}

// planGoMod returns the edit that makes the module at root require the
// runtime module, or nil if it already does.
func planGoMod(root string) (*modChange, error) {
	m, err := readGoMod(root)
	if err != nil {
		return nil, err
	}
	if m.Module.Path == "github.com/asyncinstr/asyncinstr" {
		return nil, nil // this repository: it requires ./runtime already
	}
	for _, r := range m.Require {
		if r.Path == rules.RuntimeModule {
			return nil, nil
		}
	}
	c := &modChange{root: root}
	if v := runtimesrc.ToolVersion(); v != "" {
		c.args = append(c.args, "-require="+rules.RuntimeModule+"@"+v)
		c.says = append(c.says, "added require "+rules.RuntimeModule+" "+v)
	} else {
		dir, err := runtimesrc.Dir()
		if err != nil {
			return nil, err
		}
		c.args = append(c.args, "-require="+rules.RuntimeModule+"@v0.0.0", "-replace="+rules.RuntimeModule+"="+dir)
		c.says = append(c.says, "added require "+rules.RuntimeModule+" v0.0.0 with replace => "+dir+" (this asyncinstr is a local build)")
	}
	if semver.Compare("v"+m.Go, "v"+runtimeGo) < 0 {
		// A higher go version also changes the program's GODEBUG
		// defaults (rand.Seed, say); keep those of the old version.
		c.args = append(c.args, "-go="+runtimeGo)
		c.says = append(c.says, "raised the go version from "+m.Go+" to "+runtimeGo+", which the runtime needs")
		if !hasDefaultGodebug(m) {
			c.args = append(c.args, "-godebug=default=go"+m.Go)
			c.says = append(c.says, "added godebug default=go"+m.Go+" to keep the run-time behaviour of go "+m.Go)
		}
	}
	return c, nil
}

func hasDefaultGodebug(m *goMod) bool {
	for _, g := range m.Godebug {
		if g.Key == "default" {
			return true
		}
	}
	return false
}

// absReplaces makes the relative replace directives of a module copied from
// orig point at the directories they named there.
func absReplaces(root, orig string) error {
	m, err := readGoMod(root)
	if err != nil {
		return err
	}
	var args []string
	for _, r := range m.Replace {
		if r.New.Version != "" || filepath.IsAbs(r.New.Path) {
			continue
		}
		old := r.Old.Path
		if r.Old.Version != "" {
			old += "@" + r.Old.Version
		}
		args = append(args, "-replace="+old+"="+filepath.Join(orig, r.New.Path))
	}
	if len(args) == 0 {
		return nil
	}
	_, err = goCmd(root, append([]string{"mod", "edit"}, args...)...)
	return err
}

// requiresRuntime returns a note for a stripped module that still requires
// the runtime, or "".
func requiresRuntime(root string) string {
	m, err := readGoMod(root)
	if err != nil || m.Module.Path == "github.com/asyncinstr/asyncinstr" {
		return ""
	}
	for _, r := range m.Require {
		if r.Path == rules.RuntimeModule {
			return "go.mod still requires " + rules.RuntimeModule + "; if nothing else uses it: go mod edit -droprequire=" +
				rules.RuntimeModule + " -dropreplace=" + rules.RuntimeModule +
				" (and, if asyncinstr -w raised the go version and added a godebug default line, restore those by hand)"
		}
	}
	return ""
}
