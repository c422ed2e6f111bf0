// Package typednil tells a nil interface, and an interface that holds a nil
// pointer (or map, func, chan, slice), from a usable value: a nil
// *budget.Adaptive in a budget.Budget field is not nil to ==, and would
// panic on its first call instead of when the configuration is checked.
package typednil

import "reflect"

// Is reports whether v is nil, or holds a nil pointer, map, func, chan,
// slice or interface.
func Is(v any) bool {
	if v == nil {
		return true
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Func, reflect.Chan, reflect.Slice, reflect.Interface:
		return rv.IsNil()
	}
	return false
}
