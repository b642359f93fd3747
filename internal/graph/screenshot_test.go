package graph

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

const (
	screenshotGolden = "testdata/page.png"
	// maxDiffering is the fraction of pixels that may differ from the
	// golden screenshot: text edges move a little between Chromium
	// builds and font versions, a broken page moves much more.
	maxDiffering = 0.02
)

// TestPageScreenshot takes a screenshot of the page of a small tree in a
// fixed viewport and compares it with testdata/page.png, allowing for
// some differences in font rendering. go test -update rewrites the golden
// file; on a mismatch, the test logs where the actual screenshot is.
func TestPageScreenshot(t *testing.T) {
	url, _ := writePage(t, 8, 3)
	ctx := chromium(t, 1200, 800)
	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitVisible("#tree li.node")); err != nil {
		t.Fatal(err)
	}
	eval[bool](t, ctx, typeSearch("fetchUser"))
	waitFor(t, ctx, `document.getElementById("match-count").dataset.count !== "0"`)
	eval[bool](t, ctx, `window.scrollTo(0, 0), true`)
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(screenshotGolden, shot, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("the screenshot is not a PNG: %v", err)
	}
	f, err := os.Open(screenshotGolden)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	defer f.Close()
	want, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", screenshotGolden, err)
	}
	if frac := differing(got, want); frac > maxDiffering {
		actual := filepath.Join(t.ArtifactDir(), "page.png")
		os.WriteFile(actual, shot, 0o644)
		t.Errorf("%.1f%% of the pixels differ from %s (at most %.1f%% may); the screenshot is %s (go test -update -artifacts keeps it)",
			100*frac, screenshotGolden, 100*maxDiffering, actual)
	}
}

// differing returns the fraction of pixels of a and b that differ
// clearly; images of different sizes differ everywhere.
func differing(a, b image.Image) float64 {
	if a.Bounds() != b.Bounds() {
		return 1
	}
	r := a.Bounds()
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			r1, g1, b1, _ := a.At(x, y).RGBA()
			r2, g2, b2, _ := b.At(x, y).RGBA()
			if far(r1, r2) || far(g1, g2) || far(b1, b2) {
				n++
			}
		}
	}
	return float64(n) / float64(r.Dx()*r.Dy())
}

// far reports whether two 16-bit colour channels differ by more than
// anti-aliasing does.
func far(a, b uint32) bool {
	d := int(a>>8) - int(b>>8)
	return d > 48 || d < -48
}
