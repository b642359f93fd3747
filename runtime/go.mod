module github.com/asyncinstr/asyncinstr/runtime

go 1.21
