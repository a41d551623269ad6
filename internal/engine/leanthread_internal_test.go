package engine

import (
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestLeanThreadKeepsEveryField: for each exported field of thread (those
// added later too), a thread with that field set is either kept whole
// (leanOf gives nil) or kept lean with the field's value.
func TestLeanThreadKeepsEveryField(t *testing.T) {
	t.Parallel()
	typ := reflect.TypeFor[thread]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		if !f.IsExported() {
			continue
		}
		var th thread
		v := reflect.ValueOf(&th).Elem().Field(i)
		v.Set(nonZero(t, f.Type))
		l := leanOf(&th)
		if l == nil {
			continue
		}
		got := reflect.ValueOf(l.thread()).Elem().Field(i)
		require.Equal(t, v.Interface(), got.Interface(), f.Name)
	}
	call := &taskCall{Kind: "k", Resource: "r", Params: "p", paramsJSON: `"p"`, TimeoutDue: time.Unix(1, 0), HeartbeatSeconds: 3}
	l := leanOf(&thread{ID: 2, Task: call, Input: "in", inputJSON: `"in"`})
	require.NotNil(t, l)
	back := l.thread()
	require.Equal(t, taskCall{Kind: "k", Resource: "r", paramsJSON: `"p"`, TimeoutDue: time.Unix(1, 0), HeartbeatSeconds: 3}, *back.Task,
		"a call's parameters kept encoded are kept without their value")
	require.Nil(t, back.Input, "an input kept encoded is kept without its value")
	require.Equal(t, `"in"`, back.inputJSON)
}

// nonZero returns a value of type t that is not its zero value.
func nonZero(t *testing.T, typ reflect.Type) reflect.Value {
	t.Helper()
	if typ == reflect.TypeFor[time.Time]() {
		return reflect.ValueOf(time.Unix(1, 0))
	}
	v := reflect.New(typ).Elem()
	switch typ.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(typ, 1, 1))
	case reflect.Map:
		v.Set(reflect.MakeMap(typ))
	case reflect.Interface:
		v.Set(reflect.ValueOf("x"))
	case reflect.Pointer:
		v.Set(reflect.New(typ.Elem()))
	default:
		t.Fatalf("no non-zero value for %s", typ)
	}
	return v
}
