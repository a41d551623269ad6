package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/asl"
)

// Every batch the package's tests write (the conformance suite's among
// them) is encoded by json.Marshal too, and the two must be the same bytes.
// The check runs in the engine with its execution locked, where a panic
// would leave the test's cleanup waiting on the lock: it records the first
// difference, and TestMain fails the run with it.
var batchMismatch struct {
	sync.Mutex
	checked int
	first   string
}

// checkBatchEncodings makes every batch the engine encodes be encoded by
// json.Marshal too; its result reports the first difference after the
// tests, and whether there was one.
func checkBatchEncodings() func() bool {
	batchEncodingCheck = func(b *batch, data []byte) {
		want, err := json.Marshal(b)
		batchMismatch.Lock()
		defer batchMismatch.Unlock()
		batchMismatch.checked++
		switch {
		case batchMismatch.first != "":
		case err != nil:
			batchMismatch.first = fmt.Sprintf("json.Marshal of a batch: %v", err)
		case !bytes.Equal(want, data):
			batchMismatch.first = fmt.Sprintf("appendBatch differs from json.Marshal:\n got %s\nwant %s", data, want)
		}
	}
	return func() bool {
		if batchMismatch.first == "" {
			return true
		}
		fmt.Fprintf(os.Stderr, "FAIL: of %d batches the engine encoded, %s\n", batchMismatch.checked, batchMismatch.first)
		return false
	}
}

// batchFiller fills a batch with random values through reflection, so that
// every field of every history event's details, thread and record is
// written, those added later too.
type batchFiller struct {
	r    *rand.Rand
	strs []string
}

func newBatchFiller(seed uint64, extra ...string) *batchFiller {
	return &batchFiller{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), strs: append([]string{
		"", "a", "Task", "<b>&amp;</b>", "line\u2028sep\u2029", "\x00\x01\x1f\x7f", `"quoted\"\\`, "é漢字🙂",
		"\xff\xfe bad \xc3", "\t\n\r\b\f", "arn:aws:states:us-east-1:123456789012:execution:sm:name",
		`{"json":"in a string"}`, "a\u00e9\u2027\u202a",
	}, extra...)}
}

func (f *batchFiller) str() string { return f.strs[f.r.IntN(len(f.strs))] }

func (f *batchFiller) fill(v reflect.Value, depth int) {
	if v.Type() == timeType {
		if f.r.IntN(4) > 0 {
			t := time.Unix(f.r.Int64N(4_000_000_000), f.r.Int64N(1e9))
			if f.r.IntN(2) == 0 {
				t = t.UTC()
			} else {
				t = t.In(time.FixedZone("X", 3600*(f.r.IntN(25)-12)))
			}
			v.Set(reflect.ValueOf(t))
		}
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				f.fill(v.Field(i), depth+1)
			}
		}
	case reflect.String:
		v.SetString(f.str())
	case reflect.Bool:
		v.SetBool(f.r.IntN(2) == 0)
	case reflect.Int, reflect.Int32, reflect.Int64:
		switch f.r.IntN(3) {
		case 0:
		case 1:
			v.SetInt(f.r.Int64N(20) - 3)
		default:
			v.SetInt(f.r.Int64() >> f.r.IntN(40))
		}
	case reflect.Float64:
		v.SetFloat(f.r.Float64() * 100)
	case reflect.Pointer:
		if depth > 6 || f.r.IntN(3) == 0 {
			return
		}
		p := reflect.New(v.Type().Elem())
		f.fill(p.Elem(), depth+1)
		v.Set(p)
	case reflect.Slice:
		if depth > 6 || f.r.IntN(4) == 0 {
			return
		}
		n := f.r.IntN(4)
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			f.fill(s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.Map:
		if depth > 6 || f.r.IntN(4) == 0 {
			return
		}
		m := reflect.MakeMap(v.Type())
		for range f.r.IntN(4) {
			k := reflect.New(v.Type().Key()).Elem()
			if k.Kind() == reflect.Int {
				k.SetInt(int64(f.r.IntN(30)))
			} else {
				f.fill(k, depth+1)
			}
			e := reflect.New(v.Type().Elem()).Elem()
			f.fill(e, depth+1)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Interface:
		if val := f.value(depth); val != nil {
			v.Set(reflect.ValueOf(val))
		}
	default:
		panic("batchFiller: no case for " + v.Type().String())
	}
}

// value is a random value of a state's data.
func (f *batchFiller) value(depth int) any {
	n := 8
	if depth > 5 {
		n = 4
	}
	switch f.r.IntN(n) {
	case 0:
		return nil
	case 1:
		return f.r.IntN(2) == 0
	case 2:
		return f.str()
	case 3:
		return json.Number([]string{"0", "-1", "3.25", "1e100", "12345678901234567890", ""}[f.r.IntN(6)])
	case 4:
		m := map[string]any{}
		for range f.r.IntN(4) {
			m[f.str()] = f.value(depth + 1)
		}
		return m
	case 5:
		var s []any // nil at times: json.Marshal writes null
		for range f.r.IntN(4) {
			s = append(s, f.value(depth+1))
		}
		return s
	case 6:
		var m map[string]any // nil: null
		if f.r.IntN(2) == 0 {
			return m
		}
		text, err := asl.EncodeJSON(map[string]any{f.str(): f.value(depth + 1), "k": []any{f.str(), json.Number("7")}})
		if err != nil {
			panic(err)
		}
		o, err := asl.DecodeJSON([]byte(text))
		if err != nil {
			panic(err)
		}
		return o
	default:
		return float64(f.r.IntN(1000)) / 8
	}
}

// batch is a random batch; threads and task calls know their input's and
// parameters' JSON at times, as the engine's do, sometimes with blanks.
func (f *batchFiller) batch() *batch {
	b := &batch{}
	f.fill(reflect.ValueOf(b).Elem(), 0)
	ts := make([]*thread, 0, len(b.Threads))
	for _, t := range b.Threads {
		ts = append(ts, t)
	}
	for _, h := range b.Halted {
		ts = append(ts, h.Thread)
	}
	for _, t := range ts {
		if t == nil {
			continue
		}
		if f.r.IntN(2) == 0 {
			t.inputJSON = f.json(t.Input)
		}
		if t.Task != nil && f.r.IntN(2) == 0 {
			t.Task.paramsJSON = f.json(t.Task.Params)
		}
	}
	return b
}

func (f *batchFiller) json(v any) string {
	text, err := asl.EncodeJSON(v)
	if err != nil {
		panic(err)
	}
	if f.r.IntN(4) == 0 {
		text = " " + text + "\n" // json.Marshal compacts a RawMessage
	}
	return text
}

func requireSameAsMarshal(t *testing.T, b *batch) {
	t.Helper()
	want, err := json.Marshal(b)
	require.NoError(t, err)
	got, err := marshalBatch(b)
	require.NoError(t, err)
	require.Equal(t, string(want), string(got))
}

func TestAppendBatchIsJSONMarshal(t *testing.T) {
	t.Parallel()
	for seed := range uint64(3000) {
		f := newBatchFiller(seed)
		b := f.batch()
		t.Run(strconv.FormatUint(seed, 10), func(t *testing.T) {
			requireSameAsMarshal(t, b)
		})
	}
}

func TestAppendBatchOfNothing(t *testing.T) {
	t.Parallel()
	requireSameAsMarshal(t, nil)
	requireSameAsMarshal(t, &batch{})
	requireSameAsMarshal(t, &batch{Threads: map[int]*thread{2: nil, 10: {ID: 10}}})
}

func FuzzAppendBatch(f *testing.F) {
	f.Add(uint64(1), "<script>&</script>")
	f.Add(uint64(2), "\u2028\xe2\x80")
	f.Add(uint64(3), `{"a": [1, "<"]}`)
	f.Fuzz(func(t *testing.T, seed uint64, s string) {
		requireSameAsMarshal(t, newBatchFiller(seed, s, s+"\xe2\x80\xa8").batch())
	})
}
