package engine

import (
	"math/rand/v2"
	"testing"
)

// TestIsStatesARNIsTheRegexps holds isStatesARN to the regular
// expressions it stands for, on ARNs right and wrong and on random
// mutations of them.
func TestIsStatesARNIsTheRegexps(t *testing.T) {
	t.Parallel()
	seeds := []string{
		"arn:aws:states:us-east-1:123456789012:stateMachine:orders",
		"arn:aws-us-gov:states:us-gov-west-1:123456789012:stateMachine:o",
		"arn:aws:states:us-east-1:123456789012:execution:orders:run-1",
		"arn:aws:states:us-east-1:123456789012:express:orders:run-1:x",
		"arn:aws:states:us-east-1:123456789012:express:orders:run-1",
		"arn:aws:states:us-east-1:123456789012:stateMachine:orders:1",
		"arn:aws:states:us-east-1:12345678901:execution:orders:r",
		"arn:aws:states::123456789012:execution:orders:r",
		"arn:aws:states:us-east-1:123456789012:execution:orders:",
		"arn:aws:states:us-east-1:123456789012:execution::r",
		"arn:aws:states:US-east-1:123456789012:execution:o:r",
		"arn:awsx:states:us-east-1:123456789012:activity:a",
		"arn:aws:states:us-east-1:123456789012:execution:o:r\n",
		"arn:aws:states:us-east-1:12345678901\u0662:execution:o:r",
		"arn:aws:states:us-east-1:123456789012:execution:o\xff:r",
		"", "arn:aws", "arn:aws:states:", "arn:aws:states:a:",
	}
	alphabet := []byte("arnwsteu-1:0239xpiocEMhS\n\xff")
	r := rand.New(rand.NewPCG(1, 2))
	check := func(arn string) {
		if got, want := isStatesARN(arn, 1, "stateMachine"), stateMachineARN.MatchString(arn); got != want {
			t.Errorf("state machine %q: isStatesARN %v, the regexp %v", arn, got, want)
		}
		if got, want := isStatesARN(arn, 2, "execution", "express"), executionARN.MatchString(arn); got != want {
			t.Errorf("execution %q: isStatesARN %v, the regexp %v", arn, got, want)
		}
	}
	for _, s := range seeds {
		check(s)
		for range 2000 {
			b := []byte(s)
			for range 1 + r.IntN(3) {
				switch op := r.IntN(3); {
				case op == 0 && len(b) > 0: // replace
					b[r.IntN(len(b))] = alphabet[r.IntN(len(alphabet))]
				case op == 1 && len(b) > 0: // delete
					i := r.IntN(len(b))
					b = append(b[:i:i], b[i+1:]...)
				default: // insert
					i := r.IntN(len(b) + 1)
					b = append(b[:i:i], append([]byte{alphabet[r.IntN(len(alphabet))]}, b[i:]...)...)
				}
			}
			check(string(b))
		}
	}
}

func FuzzIsStatesARN(f *testing.F) {
	f.Add("arn:aws:states:us-east-1:123456789012:execution:orders:run-1")
	f.Add("arn:aws:states:us-east-1:123456789012:stateMachine:orders")
	f.Fuzz(func(t *testing.T, arn string) {
		if got, want := isStatesARN(arn, 1, "stateMachine"), stateMachineARN.MatchString(arn); got != want {
			t.Errorf("state machine %q: isStatesARN %v, the regexp %v", arn, got, want)
		}
		if got, want := isStatesARN(arn, 2, "execution", "express"), executionARN.MatchString(arn); got != want {
			t.Errorf("execution %q: isStatesARN %v, the regexp %v", arn, got, want)
		}
	})
}
