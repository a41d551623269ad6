package enginebench

import "slices"

// Median is the middle of xs (the mean of the two middle ones when their
// number is even), for the paired benchmarks' reports; 0 for none.
func Median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	n := len(s)
	switch {
	case n == 0:
		return 0
	case n%2 == 1:
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
