module github.com/asyncinstr/asyncinstr

go 1.26.0

require (
	github.com/asyncinstr/asyncinstr/runtime v0.0.0
	github.com/chromedp/chromedp v0.23.0
	github.com/dave/dst v0.28.0
	github.com/rogpeppe/go-internal v1.16.0
	golang.org/x/mod v0.43.0
	golang.org/x/perf v0.0.0-20260908200009-22c9c6c9d4da
	golang.org/x/sync v0.24.0
	golang.org/x/tools v0.52.0
)

require (
	github.com/aclements/go-moremath v0.0.0-20210112150236-f10218a38794 // indirect
	github.com/chromedp/cdproto v0.159.0 // indirect
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
	golang.org/x/sys v0.49.0 // indirect
)

replace github.com/asyncinstr/asyncinstr/runtime => ./runtime
