package main

import (
	"bytes"
	"testing"
)

func TestRun(t *testing.T) {
	var out bytes.Buffer
	run(&out)
	// Ids depend on what ran before in this process, so compare the shape:
	// the goroutine is triggered by the test's context, the timer by the
	// goroutine, and the timer callback runs in the timer's context.
	want := `GOROUTINE(G): trigger: 0 execution: 0
before:  G
  Timeout(T): trigger: G execution: G
after:   G
destroy: G
before:  T
>>> T
after:   T
destroy: T
`
	got := normalize(out.String())
	if got != want {
		t.Errorf("output mismatch\ngot:\n%s\nwant:\n%s\nraw:\n%s", got, want, out.String())
	}
}

// normalize replaces the first two ids that appear in s with G and T.
func normalize(s string) string {
	var b bytes.Buffer
	names := map[string]string{"0": "0"}
	next := []string{"G", "T"}
	for i := 0; i < len(s); {
		if s[i] >= '0' && s[i] <= '9' {
			j := i
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			num := s[i:j]
			name, ok := names[num]
			if !ok && len(next) > 0 {
				name, next = next[0], next[1:]
				names[num] = name
			} else if !ok {
				name = num
			}
			b.WriteString(name)
			i = j
			continue
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}
