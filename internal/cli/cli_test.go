package cli

import (
	"bytes"
	"strings"
	"testing"
)

func TestMain_(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		code     int
		out, err string
	}{
		{[]string{"-h"}, 0, "usage: asyncinstr", ""},
		{[]string{"-version"}, 0, "asyncinstr " + Version, ""},
		{[]string{"-nosuchflag"}, 2, "", "flag provided but not defined"},
		{[]string{"./..."}, 2, "", "not available in this version"},
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
