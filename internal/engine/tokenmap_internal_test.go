package engine

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTokenMapIsAMap: any sequence of sets and deletes leaves a tokenMap
// answering as a Go map does.
func TestTokenMapIsAMap(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		var m tokenMap[int]
		want := map[string]int{}
		for op := range 60 {
			k := strconv.Itoa(r.IntN(4 + round%5))
			if r.IntN(3) == 0 {
				m.del(k)
				delete(want, k)
			} else {
				m.set(k, op)
				want[k] = op
			}
			for i := range 10 {
				k := strconv.Itoa(i)
				got, ok := m.get(k)
				w, wok := want[k]
				require.Equal(t, wok, ok, "round %d op %d key %s", round, op, k)
				require.Equal(t, w, got, "round %d op %d key %s", round, op, k)
			}
		}
	}
	var empty tokenMap[string]
	v, ok := empty.get("x")
	require.False(t, ok)
	require.Empty(t, v)
	empty.del("x")
}
