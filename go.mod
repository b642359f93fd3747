module github.com/asyncinstr/asyncinstr

go 1.25
