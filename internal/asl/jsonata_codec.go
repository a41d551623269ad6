package asl

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// intOrExprField is a number field that a JSONata state may give as an
// expression string instead ("TimeoutSeconds": "{% $timeout %}"): a
// JSON number goes to the *int, a string to the expression.
func intOrExprField[T any](name string, get func(*T) **int, expr func(*T) *string) field[T] {
	return field[T]{
		name:  name,
		isSet: func(v *T) bool { return *get(v) != nil || *expr(v) != "" },
		encode: func(v *T, e *encoder, _ string) {
			if n := *get(v); n != nil {
				e.buf.WriteString(strconv.Itoa(*n))
				return
			}
			writeString(&e.buf, *expr(v))
		},
		decode: func(v *T, d *decoder, n *node, path string) {
			if n.kind == kindString {
				*expr(v) = n.text
				return
			}
			if i, ok := d.integer(n, path); ok {
				*get(v) = &i
			}
		},
	}
}

// floatOrExprField is intOrExprField for a number that may have a
// fraction (ToleratedFailurePercentage).
func floatOrExprField[T any](name string, get func(*T) **float64, expr func(*T) *string) field[T] {
	return field[T]{
		name:  name,
		isSet: func(v *T) bool { return *get(v) != nil || *expr(v) != "" },
		encode: func(v *T, e *encoder, path string) {
			f := *get(v)
			if f == nil {
				writeString(&e.buf, *expr(v))
				return
			}
			if math.IsNaN(*f) || math.IsInf(*f, 0) {
				e.fail(path, fmt.Errorf("%v is not a JSON number", *f))
				return
			}
			b, _ := json.Marshal(*f)
			e.buf.Write(b)
		},
		decode: func(v *T, d *decoder, n *node, path string) {
			if n.kind == kindString {
				*expr(v) = n.text
				return
			}
			if f, ok := d.number(n, path); ok {
				*get(v) = &f
			}
		},
	}
}
