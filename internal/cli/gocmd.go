package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/asyncinstr/asyncinstr/internal/toolexec"
)

// goSubcommands are the go commands that compile, and so can instrument.
var goSubcommands = map[string]bool{"build": true, "install": true, "run": true, "test": true, "list": true, "vet": true}

// runGo runs "go sub args..." with this binary as -toolexec: compile-time
// mode. The go command's directory and arguments go to the tools in
// $ASYNCINSTR_GO, so that they build the runtime with the same flags on
// every system.
func runGo(args []string, rulesList string, stdout, stderr io.Writer) int {
	if len(args) == 0 || !goSubcommands[args[0]] {
		fmt.Fprintln(stderr, "usage: asyncinstr [-rules list] go build|install|run|test|list|vet [flags] [packages]")
		return exitError
	}
	dir, err := os.Getwd()
	if err != nil {
		fmt.Fprintf(stderr, "asyncinstr: %v\n", err)
		return exitError
	}
	for i, a := range args[1:] {
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") {
			continue
		}
		switch name {
		case "toolexec":
			fmt.Fprintln(stderr, "asyncinstr go: -toolexec is asyncinstr's own; run the other tool from a wrapper that asyncinstr calls instead")
			return exitError
		case "C":
			if !hasValue && i+2 < len(args) {
				value = args[i+2]
			}
			if !filepath.IsAbs(value) {
				value = filepath.Join(dir, value)
			}
			dir = value
		}
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "asyncinstr: %v\n", err)
		return exitError
	}
	desc, _ := json.Marshal(toolexec.GoCommand{Dir: dir, Args: args})
	goArgs := append([]string{args[0], toolexec.Flag(exe)}, args[1:]...)
	if len(args) > 1 && (args[1] == "-C" || strings.HasPrefix(args[1], "-C=") || strings.HasPrefix(args[1], "--C")) {
		// -C must come first.
		n := 1
		if !strings.Contains(args[1], "=") {
			n = 2
		}
		goArgs = append(append([]string{args[0]}, args[1:1+n]...), append([]string{toolexec.Flag(exe)}, args[1+n:]...)...)
	}
	cmd := exec.Command("go", goArgs...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	cmd.Env = append(os.Environ(), toolexec.GoEnv+"="+string(desc))
	if rulesList != "" && rulesList != "all" {
		cmd.Env = append(cmd.Env, toolexec.RulesEnv+"="+rulesList)
	}
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.Exited() {
			return ee.ExitCode()
		}
		fmt.Fprintf(stderr, "asyncinstr: %v\n", err)
		return exitError
	}
	return exitOK
}
