package graph

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// writePage writes the page of a generated trace of conns connections to
// a temporary file and returns its file:// URL, with what the generator
// made.
func writePage(t *testing.T, conns int, seed uint64) (string, []genResource) {
	t.Helper()
	data, res := genTrace(conns, seed)
	tr, err := Read(bytes.NewReader(data), "loadgen.json")
	if err != nil {
		t.Fatal(err)
	}
	var page bytes.Buffer
	if err := WriteHTML(&page, tr); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "page.html")
	if err := os.WriteFile(path, page.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return "file://" + path, res
}

// visible counts the rows of the tree that are shown, inside sel.
func visible(sel string) string {
	return fmt.Sprintf(`[...document.querySelectorAll(%q)].filter(e => e.offsetParent !== null).length`, sel)
}

// typeSearch returns a script that types q into the search box.
func typeSearch(q string) string {
	return fmt.Sprintf(`(s => (s.focus(), s.value = %q, s.dispatchEvent(new Event("input")), true))(document.getElementById("search"))`, q)
}

// TestPage drives the page of a tree of a few thousand nodes in Chromium:
// its summary, collapsing a subtree, searching for a site, expanding and
// collapsing everything.
func TestPage(t *testing.T) {
	url, res := writePage(t, 300, 42)
	ctx := chromium(t, 1280, 900)
	start := time.Now()
	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitVisible("#tree li.node")); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d resources; the page opened in %v", len(res), time.Since(start).Round(time.Millisecond))

	types, leaked, site := map[string]bool{}, 0, 0
	for _, r := range res {
		types[r.typ] = true
		if r.leaked {
			leaked++
		}
		if r.site == "cache.go:77 main.(*Cache).refresh" {
			site++
		}
	}
	t.Run("summary", func(t *testing.T) {
		got := eval[[]string](t, ctx, `["stat-resources", "stat-types", "stat-leaked"].map(id => document.getElementById(id).textContent.replaceAll(",", ""))`)
		want := []string{strconv.Itoa(len(res)), strconv.Itoa(len(types)), strconv.Itoa(leaked)}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("summary shows resources, types, leaks = %v, want %v", got, want)
		}
	})

	t.Run("expand-all", func(t *testing.T) {
		start := time.Now()
		eval[bool](t, ctx, `document.getElementById("expand-all").click(), true`)
		if n := eval[int](t, ctx, visible("#tree li.node")); n != len(res)+1 {
			t.Errorf("after expand-all %d rows are shown, want all %d nodes", n, len(res)+1)
		}
		t.Logf("expand-all built %d rows in %v", len(res)+1, time.Since(start).Round(time.Millisecond))
	})

	t.Run("collapse", func(t *testing.T) {
		// The first connection (#3) and everything it caused.
		below := eval[int](t, ctx, `document.querySelectorAll("#n-3 li.node").length`)
		if below == 0 {
			t.Fatal("#n-3 shows nothing below it")
		}
		eval[bool](t, ctx, `document.querySelector("#n-3 > .row").click(), true`)
		if n := eval[int](t, ctx, visible("#n-3 li.node")); n != 0 {
			t.Errorf("after collapsing #3, %d of its %d descendants are still shown", n, below)
		}
		if n := eval[int](t, ctx, visible("#tree li.node")); n != len(res)+1-below {
			t.Errorf("after collapsing #3, %d rows are shown, want %d", n, len(res)+1-below)
		}
		if got := eval[string](t, ctx, `document.getElementById("n-3").getAttribute("aria-expanded")`); got != "false" {
			t.Errorf("#3 is aria-expanded=%q after collapsing", got)
		}
		eval[bool](t, ctx, `document.querySelector("#n-3 > .row").click(), true`)
		if n := eval[int](t, ctx, visible("#n-3 li.node")); n != below {
			t.Errorf("after expanding #3 again, %d of its %d descendants are shown", n, below)
		}
	})

	t.Run("collapse-all", func(t *testing.T) {
		eval[bool](t, ctx, `document.getElementById("collapse-all").click(), true`)
		// The root stays open on the server, its one child.
		if n := eval[int](t, ctx, visible("#tree li.node")); n != 2 {
			t.Errorf("after collapse-all %d rows are shown, want 2", n)
		}
	})

	t.Run("search", func(t *testing.T) {
		eval[bool](t, ctx, typeSearch("cache.go:77"))
		waitFor(t, ctx, `document.getElementById("match-count").dataset.count !== "0"`)
		if got := eval[string](t, ctx, `document.getElementById("match-count").dataset.count`); got != strconv.Itoa(site) {
			t.Errorf("the search for cache.go:77 counts %s matches, want %d", got, site)
		}
		if got, want := eval[string](t, ctx, `document.getElementById("match-count").textContent`), fmt.Sprintf("%d matches", site); got != want {
			t.Errorf("the match count reads %q, want %q", got, want)
		}
		if n := eval[int](t, ctx, visible("#tree li.node.match")); n != site {
			t.Errorf("%d matches are shown, want all %d revealed", n, site)
		}
		if n := eval[int](t, ctx, `[...document.querySelectorAll("#tree li.node.match > .row > .site")].filter(e => !e.textContent.includes("cache.go:77")).length`); n != 0 {
			t.Errorf("%d rows highlighted as matches do not have the site", n)
		}
		if n := eval[int](t, ctx, `document.querySelectorAll("#tree li.current").length`); n != 1 {
			t.Errorf("%d matches are current, want 1", n)
		}
		eval[bool](t, ctx, `document.getElementById("search").dispatchEvent(new KeyboardEvent("keydown", {key: "Enter"})), true`)
		second := eval[string](t, ctx, `document.querySelector("#tree li.current").id`)
		first := eval[string](t, ctx, `document.querySelector("#tree li.match").id`)
		if second == first {
			t.Errorf("Enter did not move to the next match (still %s)", first)
		}
	})

	t.Run("search-id", func(t *testing.T) {
		last := res[len(res)-1].id
		eval[bool](t, ctx, typeSearch(fmt.Sprintf("#%d", last)))
		waitFor(t, ctx, `document.getElementById("match-count").dataset.count === "1"`)
		if n := eval[int](t, ctx, visible(fmt.Sprintf("#n-%d.match", last))); n != 1 {
			t.Errorf("the search for #%d does not show it", last)
		}
	})
}
