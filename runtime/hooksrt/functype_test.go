//go:build go1.25

package hooksrt

import "testing"

func functional() {}
func TestFuncTypeNames(t *testing.T) {
	if got := funcType(functional); got != "github.com/asyncinstr/asyncinstr/runtime/hooksrt.functional" {
		t.Errorf("named: %s", got)
	}
	if got := funcType(func() {}); got != "bound-anonymous-fn" {
		t.Errorf("literal: %s", got)
	}
	f := func() func() { return func() {} }
	if got := funcType(f()); got != "bound-anonymous-fn" {
		t.Errorf("nested: %s", got)
	}
}
