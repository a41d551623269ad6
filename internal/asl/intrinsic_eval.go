package asl

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

// IntrinsicEffects are the effects of intrinsic functions, injected so that
// evaluation stays deterministic.
type IntrinsicEffects struct {
	// RandomFunc returns a random integer n with start <= n < end
	// (States.MathRandom without a seed).
	RandomFunc func(start, end int64) int64
	// UUIDFunc returns a new version 4 UUID (States.UUID).
	UUIDFunc func() string
}

// Limits that Step Functions documents for intrinsic functions.
const (
	maxIntrinsicRangeItems  = 1000  // States.ArrayRange
	maxIntrinsicInputLength = 10000 // States.Base64Encode, Base64Decode, Hash
)

// EvalIntrinsic evaluates the intrinsic function call c, its nested calls
// first, with Step Functions semantics. resolve gives the value of a path
// argument. Values are JSON values as encoding/json decodes them with
// UseNumber: numbers in the result are json.Number.
//
// A path that resolves to nothing is an *EvalError named States.Runtime.
// Wrong argument types or values, a failed conversion and a missing
// effect are *EvalErrors named States.IntrinsicFailure. An error of
// resolve is returned wrapped.
func EvalIntrinsic(c Call, resolve func(path string) (any, bool, error), fx IntrinsicEffects) (any, error) {
	ev := intrinsicEvaluator{resolve: resolve, fx: fx}
	return ev.call(c)
}

type intrinsicEvaluator struct {
	resolve func(path string) (any, bool, error)
	fx      IntrinsicEffects
}

// intrinsicFailure is the error of a call that got arguments it cannot use.
func intrinsicFailure(c Call, format string, args ...any) error {
	return &EvalError{Name: ErrorIntrinsicFailure, Cause: c.Name + ": " + fmt.Sprintf(format, args...)}
}

func (ev intrinsicEvaluator) arg(a Arg) (any, error) {
	switch a.Kind {
	case ArgString:
		return a.String, nil
	case ArgNumber:
		return a.Number, nil
	case ArgBool:
		return a.Bool, nil
	case ArgNull:
		return nil, nil
	case ArgPath:
		p := a.Path.String()
		v, found, err := ev.resolve(p)
		if err != nil {
			return nil, fmt.Errorf("resolving %s: %w", p, err)
		}
		if !found {
			return nil, evalErrorf(ErrorRuntime, "the path %s of an intrinsic function argument could not be found", p)
		}
		return v, nil
	case ArgCall:
		if a.Call == nil {
			return nil, evalErrorf(ErrorIntrinsicFailure, "a nested call argument without a call")
		}
		return ev.call(*a.Call)
	}
	return nil, evalErrorf(ErrorIntrinsicFailure, "an argument of unknown kind %d", a.Kind)
}

func (ev intrinsicEvaluator) call(c Call) (any, error) {
	sig, ok := intrinsics[c.Name]
	if !ok {
		return nil, evalErrorf(ErrorIntrinsicFailure, "unknown intrinsic function %q", c.Name)
	}
	if n := len(c.Args); n < sig.min || sig.max >= 0 && n > sig.max {
		return nil, intrinsicFailure(c, "wrong number of arguments: %d", n)
	}
	args := make([]any, len(c.Args))
	for i, a := range c.Args {
		v, err := ev.arg(a)
		if err != nil {
			return nil, err
		}
		args[i] = v
	}
	switch c.Name {
	case "States.Format":
		return intrinsicFormat(c, args)
	case "States.StringToJson":
		return intrinsicStringToJSON(c, args)
	case "States.JsonToString":
		s, err := intrinsicMarshal(args[0])
		if err != nil {
			return nil, intrinsicFailure(c, "%v", err)
		}
		return s, nil
	case "States.Array":
		return append([]any{}, args...), nil
	case "States.ArrayPartition":
		return intrinsicArrayPartition(c, args)
	case "States.ArrayContains":
		arr, err := intrinsicArray(c, args[0], 1)
		if err != nil {
			return nil, err
		}
		for _, v := range arr {
			if intrinsicEqual(v, args[1]) {
				return true, nil
			}
		}
		return false, nil
	case "States.ArrayRange":
		return intrinsicArrayRange(c, args)
	case "States.ArrayGetItem":
		return intrinsicArrayGetItem(c, args)
	case "States.ArrayLength":
		arr, err := intrinsicArray(c, args[0], 1)
		if err != nil {
			return nil, err
		}
		return json.Number(fmt.Sprint(len(arr))), nil
	case "States.ArrayUnique":
		arr, err := intrinsicArray(c, args[0], 1)
		if err != nil {
			return nil, err
		}
		out := []any{}
	next:
		for _, v := range arr {
			for _, w := range out {
				if intrinsicEqual(v, w) {
					continue next
				}
			}
			out = append(out, v)
		}
		return out, nil
	case "States.Base64Encode":
		s, err := intrinsicInputString(c, args[0])
		if err != nil {
			return nil, err
		}
		return base64.StdEncoding.EncodeToString([]byte(s)), nil
	case "States.Base64Decode":
		s, err := intrinsicInputString(c, args[0])
		if err != nil {
			return nil, err
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, intrinsicFailure(c, "invalid base64: %v", err)
		}
		if !utf8.Valid(b) {
			return nil, intrinsicFailure(c, "the decoded data is not UTF-8 text")
		}
		return string(b), nil
	case "States.Hash":
		return intrinsicHash(c, args)
	case "States.JsonMerge":
		return intrinsicJSONMerge(c, args)
	case "States.MathRandom":
		return ev.mathRandom(c, args)
	case "States.MathAdd":
		var v [2]int64
		for i := range v {
			n, err := intrinsicRounded(c, args[i], i+1)
			if err != nil {
				return nil, err
			}
			if n < math.MinInt32 || n > math.MaxInt32 {
				return nil, intrinsicFailure(c, "argument %d is %d, outside the range %d to %d", i+1, n, math.MinInt32, math.MaxInt32)
			}
			v[i] = n
		}
		return json.Number(strconv.FormatInt(v[0]+v[1], 10)), nil
	case "States.StringSplit":
		return intrinsicStringSplit(c, args)
	default: // States.UUID
		if ev.fx.UUIDFunc == nil {
			return nil, intrinsicFailure(c, "no UUID source is configured")
		}
		return ev.fx.UUIDFunc(), nil
	}
}

// intrinsicFormat fills the {} placeholders of the template, read as
// written so that \{ and \} stay literal braces.
func intrinsicFormat(c Call, args []any) (any, error) {
	if _, ok := args[0].(string); !ok {
		return nil, intrinsicFailure(c, "argument 1 must be a string template")
	}
	raw := args[0].(string)
	if c.Args[0].Kind == ArgString {
		raw = c.Args[0].Raw
	} else {
		// A template from a path or a call has no escapes to resolve, but
		// its backslashes must stay literal.
		raw = strings.ReplaceAll(raw, `\`, `\\`)
	}
	values := args[1:]
	if n := FormatPlaceholders(raw); n != len(values) {
		return nil, intrinsicFailure(c, "the template has %d placeholders but %d values were given", n, len(values))
	}
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		switch {
		case raw[i] == '\\' && i+1 < len(raw):
			i++
			b.WriteByte(raw[i])
		case raw[i] == '{' && i+1 < len(raw) && raw[i+1] == '}':
			i++
			switch v := values[0].(type) {
			case string:
				b.WriteString(v)
			default:
				s, err := intrinsicMarshal(v)
				if err != nil {
					return nil, intrinsicFailure(c, "%v", err)
				}
				b.WriteString(s)
			}
			values = values[1:]
		default:
			b.WriteByte(raw[i])
		}
	}
	return b.String(), nil
}

func intrinsicStringToJSON(c Call, args []any) (any, error) {
	s, ok := args[0].(string)
	if !ok {
		return nil, intrinsicFailure(c, "argument 1 must be a string")
	}
	v, err := DecodeJSON([]byte(s))
	if err != nil {
		return nil, intrinsicFailure(c, "%v", err)
	}
	return v, nil
}

// intrinsicMarshal writes v as compact JSON, object members in order.
func intrinsicMarshal(v any) (string, error) {
	return EncodeJSON(v)
}

func intrinsicArray(c Call, v any, pos int) ([]any, error) {
	arr, ok := v.([]any)
	if !ok {
		return nil, intrinsicFailure(c, "argument %d must be an array", pos)
	}
	return arr, nil
}

// intrinsicInt reads an integer argument. A number with a zero fraction,
// such as 2.0, counts as an integer.
func intrinsicInt(c Call, v any, pos int) (int64, error) {
	n, ok := choiceNumber(v)
	if !ok || n.rat == nil || !n.rat.IsInt() || !n.rat.Num().IsInt64() {
		return 0, intrinsicFailure(c, "argument %d must be an integer", pos)
	}
	return n.rat.Num().Int64(), nil
}

// intrinsicRounded reads a number argument and rounds it to the nearest
// integer, halves up (Java's Math.round): Step Functions rounds the
// non-integer arguments of States.ArrayPartition, States.ArrayRange,
// States.MathRandom and States.MathAdd.
func intrinsicRounded(c Call, v any, pos int) (int64, error) {
	if _, ok := choiceNumber(v); !ok {
		return 0, intrinsicFailure(c, "argument %d must be a number", pos)
	}
	n, ok := roundHalfUp(v)
	if !ok {
		return 0, intrinsicFailure(c, "argument %d is beyond the 64-bit integers", pos)
	}
	return n, nil
}

// roundHalfUp rounds a JSON number to the nearest integer, halves up; ok
// is false for what is not a number or rounds beyond int64.
func roundHalfUp(v any) (int64, bool) {
	n, ok := choiceNumber(v)
	if !ok || n.rat == nil {
		return 0, false
	}
	r := new(big.Rat).Add(n.rat, big.NewRat(1, 2))
	q := new(big.Int).Div(r.Num(), r.Denom()) // Euclidean: the floor, as Denom > 0
	if !q.IsInt64() {
		return 0, false
	}
	return q.Int64(), true
}

func intrinsicInputString(c Call, v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", intrinsicFailure(c, "argument 1 must be a string")
	}
	if n := utf8.RuneCountInString(s); n > maxIntrinsicInputLength {
		return "", intrinsicFailure(c, "the input has %d characters, more than the %d allowed", n, maxIntrinsicInputLength)
	}
	return s, nil
}

func intrinsicArrayPartition(c Call, args []any) (any, error) {
	arr, err := intrinsicArray(c, args[0], 1)
	if err != nil {
		return nil, err
	}
	size, err := intrinsicRounded(c, args[1], 2)
	if err != nil {
		return nil, err
	}
	if size < 1 {
		return nil, intrinsicFailure(c, "the chunk size must be positive, not %d", size)
	}
	out := []any{}
	for len(arr) > 0 {
		n := int(min(size, int64(len(arr))))
		out = append(out, append([]any{}, arr[:n]...))
		arr = arr[n:]
	}
	return out, nil
}

func intrinsicArrayRange(c Call, args []any) (any, error) {
	var v [3]int64
	for i := range v {
		n, err := intrinsicRounded(c, args[i], i+1)
		if err != nil {
			return nil, err
		}
		v[i] = n
	}
	start, end, step := v[0], v[1], v[2]
	if step == 0 {
		return nil, intrinsicFailure(c, "the step must not be 0")
	}
	out := []any{}
	if step > 0 && start > end || step < 0 && start < end {
		return out, nil
	}
	// (end-start)/step+1 items, computed without overflowing int64.
	count := new(big.Int).Sub(big.NewInt(end), big.NewInt(start))
	count.Quo(count, big.NewInt(step)).Add(count, big.NewInt(1))
	if count.Cmp(big.NewInt(maxIntrinsicRangeItems)) > 0 {
		return nil, intrinsicFailure(c, "the range has %s items, more than the %d allowed", count, maxIntrinsicRangeItems)
	}
	for i := range count.Int64() {
		out = append(out, json.Number(fmt.Sprint(start+i*step)))
	}
	return out, nil
}

func intrinsicArrayGetItem(c Call, args []any) (any, error) {
	arr, err := intrinsicArray(c, args[0], 1)
	if err != nil {
		return nil, err
	}
	i, err := intrinsicInt(c, args[1], 2)
	if err != nil {
		return nil, err
	}
	if i < 0 || i >= int64(len(arr)) {
		return nil, intrinsicFailure(c, "index %d is out of bounds of an array of %d items", i, len(arr))
	}
	return arr[i], nil
}

var intrinsicHashes = map[string]func() hash.Hash{
	"MD5": md5.New, "SHA-1": sha1.New, "SHA-256": sha256.New, "SHA-384": sha512.New384, "SHA-512": sha512.New,
}

func intrinsicHash(c Call, args []any) (any, error) {
	s, err := intrinsicInputString(c, args[0])
	if err != nil {
		return nil, err
	}
	alg, _ := args[1].(string)
	newHash, ok := intrinsicHashes[alg]
	if !ok {
		return nil, intrinsicFailure(c, "argument 2 must be one of %s", strings.Join(hashAlgorithms, ", "))
	}
	h := newHash()
	h.Write([]byte(s))
	return hex.EncodeToString(h.Sum(nil)), nil
}

func intrinsicJSONMerge(c Call, args []any) (any, error) {
	a, ok1 := AsObject(args[0])
	b, ok2 := AsObject(args[1])
	if !ok1 || !ok2 {
		return nil, intrinsicFailure(c, "arguments 1 and 2 must be JSON objects")
	}
	if deep, ok := args[2].(bool); !ok || deep {
		return nil, intrinsicFailure(c, "argument 3 must be false: only shallow merges are supported")
	}
	// The first object's members keep their places (with the second's
	// values where it has them); the second's other members follow.
	out := NewObject(a.Len() + b.Len())
	for k, v := range a.All() {
		out.Set(k, v)
	}
	for k, v := range b.All() {
		out.Set(k, v)
	}
	return out, nil
}

func (ev intrinsicEvaluator) mathRandom(c Call, args []any) (any, error) {
	start, err := intrinsicRounded(c, args[0], 1)
	if err != nil {
		return nil, err
	}
	end, err := intrinsicRounded(c, args[1], 2)
	if err != nil {
		return nil, err
	}
	if start >= end {
		return nil, intrinsicFailure(c, "the start %d must be less than the end %d", start, end)
	}
	if len(args) == 3 {
		seed, err := intrinsicInt(c, args[2], 3)
		if err != nil {
			return nil, err
		}
		return json.Number(fmt.Sprint(intrinsicSeededRandom(seed, start, end))), nil
	}
	if ev.fx.RandomFunc == nil {
		return nil, intrinsicFailure(c, "no random source is configured")
	}
	return json.Number(fmt.Sprint(ev.fx.RandomFunc(start, end))), nil
}

// intrinsicSeededRandom picks a number in [start, end) that depends only on
// seed (one SplitMix64 step), so a seeded States.MathRandom repeats itself
// as it does on AWS, though with different numbers.
func intrinsicSeededRandom(seed, start, end int64) int64 {
	z := uint64(seed) + 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	span := uint64(end) - uint64(start)
	return start + int64(z%span)
}

// intrinsicStringSplit splits at every character of the splitter: AWS's
// own example splits "This.is+a,test=string" at ".+,=". Empty pieces are
// dropped.
func intrinsicStringSplit(c Call, args []any) (any, error) {
	s, ok1 := args[0].(string)
	sep, ok2 := args[1].(string)
	if !ok1 || !ok2 {
		return nil, intrinsicFailure(c, "both arguments must be strings")
	}
	out := []any{}
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(sep, r) }) {
		out = append(out, f)
	}
	return out, nil
}

// intrinsicEqual compares JSON values by value: numbers numerically (1 and
// 1.0 are the same number), arrays by element, objects by member.
func intrinsicEqual(a, b any) bool {
	switch x := a.(type) {
	case map[string]any, *Object:
		xo, _ := AsObject(x)
		yo, ok := AsObject(b)
		if !ok || xo.Len() != yo.Len() {
			return false
		}
		for k, v := range xo.All() {
			w, ok := yo.Get(k)
			if !ok || !intrinsicEqual(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !intrinsicEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case string, bool, nil:
		return a == b
	}
	m, ok1 := choiceNumber(a)
	n, ok2 := choiceNumber(b)
	return ok1 && ok2 && m.cmp(n) == 0
}
