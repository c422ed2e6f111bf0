package typednil

import (
	"io"
	"testing"
)

type impl struct{}

func (*impl) Write(p []byte) (int, error) { return len(p), nil }

func TestIs(t *testing.T) {
	var nilPtr *impl
	var w io.Writer = nilPtr
	for _, tc := range []struct {
		name string
		v    any
		want bool
	}{
		{"nil", nil, true},
		{"nil pointer in an interface", w, true},
		{"nil map", map[string]int(nil), true},
		{"nil func", (func())(nil), true},
		{"pointer", &impl{}, false},
		{"value", 3, false},
	} {
		if got := Is(tc.v); got != tc.want {
			t.Errorf("%s: Is = %v, want %v", tc.name, got, tc.want)
		}
	}
}
