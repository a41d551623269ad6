package asl

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/aiflow/aiflow/internal/jsonvalid"
)

// EvalError is a run-time error with a Step Functions error name, such as
// States.Runtime, States.NoChoiceMatched or States.IntrinsicFailure, that a
// Retrier or Catcher can match.
type EvalError struct {
	// Name is the error name, one of the Error* constants.
	Name string
	// Cause says what went wrong, in words meant for the workflow's author.
	Cause string
}

// Error returns the name and the cause.
func (e *EvalError) Error() string { return e.Name + ": " + e.Cause }

func evalErrorf(name, format string, args ...any) *EvalError {
	return &EvalError{Name: name, Cause: fmt.Sprintf(format, args...)}
}

// EvalChoices evaluates the Choices of a Choice state in order and returns
// the Next of the first rule that matches; if none does, it returns def,
// the state's Default. With no match and no Default it returns an
// *EvalError named States.NoChoiceMatched. Errors of EvalChoice are
// returned as they are.
func EvalChoices(rules []ChoiceRule, def string, resolve func(path string) (value any, found bool, err error)) (next string, err error) {
	for i := range rules {
		ok, err := EvalChoice(rules[i], resolve)
		if err != nil {
			return "", fmt.Errorf("evaluating choice rule %d: %w", i, err)
		}
		if ok {
			return rules[i].Next, nil
		}
	}
	if def != "" {
		return def, nil
	}
	return "", evalErrorf(ErrorNoChoiceMatched, "no choice rule matched and there is no Default")
}

// EvalChoice reports whether the choice rule r matches, with Step Functions
// semantics: a value of the wrong type for the operator (StringEquals on a
// number, TimestampLessThan on a string that is not a timestamp) does not
// match; And and Or stop at the first rule that decides them. resolve gives
// the value at a path (Variable, and the operand of a ...Path operator).
//
// A path that resolves to nothing is an *EvalError named States.Runtime,
// except for the Variable of IsPresent, which exists to guard other rules
// against that. An error of resolve is returned wrapped. A malformed rule
// (no operator, or more than one) is an *EvalError named States.Runtime.
func EvalChoice(r ChoiceRule, resolve func(path string) (value any, found bool, err error)) (bool, error) {
	switch {
	case r.And != nil:
		for i := range r.And {
			ok, err := EvalChoice(r.And[i], resolve)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case r.Or != nil:
		for i := range r.Or {
			ok, err := EvalChoice(r.Or[i], resolve)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	case r.Not != nil:
		ok, err := EvalChoice(*r.Not, resolve)
		return !ok && err == nil, err
	}
	ops := r.Operators()
	if len(ops) != 1 {
		return false, evalErrorf(ErrorRuntime, "a choice rule needs exactly one comparison operator, or And, Or or Not; found %d operators", len(ops))
	}
	op := ops[0]
	v, found, err := resolve(r.Variable)
	if err != nil {
		return false, fmt.Errorf("resolving Variable %s: %w", r.Variable, err)
	}
	if op.Name == "IsPresent" {
		return found == *op.Boolean, nil
	}
	if !found {
		return false, evalErrorf(ErrorRuntime, "invalid path %q: the choice rule's Variable references a value that is not present", r.Variable)
	}
	if op.Kind == OperandTypeTest {
		return choiceTypeTest(op.Name, v) == *op.Boolean, nil
	}
	family, cmp := choiceSplitOperator(op.Name)
	var operand any
	switch op.Kind {
	case OperandPath:
		w, found, err := resolve(*op.String)
		if err != nil {
			return false, fmt.Errorf("resolving %s %s: %w", op.Name, *op.String, err)
		}
		if !found {
			return false, evalErrorf(ErrorRuntime, "invalid path %q: the choice rule's %s references a value that is not present", *op.String, op.Name)
		}
		operand = w
	case OperandNumber:
		// The literal was decoded into a float64; its shortest decimal
		// spelling is what the definition says (0.1, not 0.1000000000000000055).
		operand = json.Number(strconv.FormatFloat(*op.Number, 'g', -1, 64))
	case OperandBoolean:
		operand = *op.Boolean
	default:
		operand = *op.String
	}
	switch family {
	case "StringMatches":
		s, ok := v.(string)
		return ok && choiceStringMatches(s, operand.(string)), nil
	case "String":
		a, ok1 := v.(string)
		b, ok2 := operand.(string)
		return ok1 && ok2 && cmp(choiceCompareUTF16(a, b)), nil
	case "Numeric":
		a, ok1 := choiceNumber(v)
		b, ok2 := choiceNumber(operand)
		return ok1 && ok2 && cmp(a.cmp(b)), nil
	case "Boolean":
		a, ok1 := v.(bool)
		b, ok2 := operand.(bool)
		return ok1 && ok2 && a == b, nil
	default: // Timestamp
		a, ok1 := choiceTimestamp(v)
		b, ok2 := choiceTimestamp(operand)
		if op.Kind == OperandTimestamp && !ok2 {
			return false, evalErrorf(ErrorRuntime, "%s: %q is not an RFC 3339 timestamp", op.Name, *op.String)
		}
		return ok1 && ok2 && cmp(a.Compare(b)), nil
	}
}

// choiceSplitOperator splits an operator name such as
// "NumericLessThanEqualsPath" into its family ("Numeric") and a test of
// the three-way comparison of the variable with the operand.
func choiceSplitOperator(name string) (family string, cmp func(int) bool) {
	name = strings.TrimSuffix(name, "Path")
	if name == "StringMatches" {
		return name, nil
	}
	for _, f := range []string{"String", "Numeric", "Boolean", "Timestamp"} {
		if rest, ok := strings.CutPrefix(name, f); ok {
			switch rest {
			case "LessThan":
				return f, func(c int) bool { return c < 0 }
			case "GreaterThan":
				return f, func(c int) bool { return c > 0 }
			case "LessThanEquals":
				return f, func(c int) bool { return c <= 0 }
			case "GreaterThanEquals":
				return f, func(c int) bool { return c >= 0 }
			}
			return f, func(c int) bool { return c == 0 }
		}
	}
	return "", nil
}

func choiceTypeTest(name string, v any) bool {
	switch name {
	case "IsNull":
		return v == nil
	case "IsNumeric":
		_, ok := choiceNumber(v)
		return ok
	case "IsString":
		_, ok := v.(string)
		return ok
	case "IsBoolean":
		_, ok := v.(bool)
		return ok
	default: // IsTimestamp
		_, ok := choiceTimestamp(v)
		return ok
	}
}

// choiceCompareUTF16 compares strings the way Java's String.compareTo
// does, by UTF-16 code units, which is the order Step Functions uses.
// It differs from Go's byte order only between supplementary characters
// and U+E000..U+FFFF.
func choiceCompareUTF16(a, b string) int {
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if ra != rb {
			ua, ub := choiceUTF16Units(ra), choiceUTF16Units(rb)
			for i := range min(len(ua), len(ub)) {
				if ua[i] != ub[i] {
					return int(ua[i]) - int(ub[i])
				}
			}
			return len(ua) - len(ub)
		}
		a, b = a[na:], b[nb:]
	}
	return len(a) - len(b)
}

func choiceUTF16Units(r rune) []uint16 {
	if r1, r2 := utf16.EncodeRune(r); r1 != utf8.RuneError {
		return []uint16{uint16(r1), uint16(r2)}
	}
	return []uint16{uint16(r)}
}

// choiceStringMatches matches s against a StringMatches pattern, in which
// "*" matches any run of characters and a backslash makes the character
// after it literal ("\*" a star, "\\" a backslash).
func choiceStringMatches(s, pattern string) bool {
	type token struct {
		r    rune
		star bool
	}
	var p []token
	pr := []rune(pattern)
	for i := 0; i < len(pr); i++ {
		switch {
		case pr[i] == '\\' && i+1 < len(pr):
			i++
			p = append(p, token{r: pr[i]})
		case pr[i] == '*':
			p = append(p, token{star: true})
		default:
			p = append(p, token{r: pr[i]})
		}
	}
	text := []rune(s)
	// Linear-time wildcard matching: on a mismatch, let the last star
	// absorb one more character and retry from there.
	ti, pi, starP, starT := 0, 0, -1, 0
	for ti < len(text) {
		switch {
		case pi < len(p) && p[pi].star:
			starP, starT = pi, ti
			pi++
		case pi < len(p) && p[pi].r == text[ti]:
			pi++
			ti++
		case starP >= 0:
			starT++
			pi, ti = starP+1, starT
		default:
			return false
		}
	}
	for pi < len(p) && p[pi].star {
		pi++
	}
	return pi == len(p)
}

// choiceNum is an exact number: rat when the number is small enough to
// hold exactly, otherwise a 512-bit float (exponents beyond a million).
type choiceNum struct {
	rat *big.Rat
	f   *big.Float
}

func (a choiceNum) float() *big.Float {
	if a.f != nil {
		return a.f
	}
	return new(big.Float).SetPrec(512).SetRat(a.rat)
}

func (a choiceNum) cmp(b choiceNum) int {
	if a.rat != nil && b.rat != nil {
		return a.rat.Cmp(b.rat)
	}
	return a.float().Cmp(b.float())
}

// choiceNumber reads a JSON number exactly. It accepts json.Number, as the
// engine decodes, and Go's numeric types for callers that build values.
func choiceNumber(v any) (choiceNum, bool) {
	var s string
	switch n := v.(type) {
	case json.Number:
		s = string(n)
	case float64:
		s = strconv.FormatFloat(n, 'g', -1, 64)
	case int:
		s = strconv.Itoa(n)
	case int64:
		s = strconv.FormatInt(n, 10)
	default:
		return choiceNum{}, false
	}
	if !choiceIsJSONNumber(s) {
		return choiceNum{}, false
	}
	if choiceSmallExponent(s) {
		if r, ok := new(big.Rat).SetString(s); ok {
			return choiceNum{rat: r}, true
		}
	}
	f, _, err := big.ParseFloat(s, 10, 512, big.ToNearestEven)
	if err != nil {
		return choiceNum{}, false
	}
	return choiceNum{f: f}, true
}

// choiceSmallExponent reports whether the decimal exponent of the JSON
// number s is small enough for an exact big.Rat, whose cost grows with the
// exponent: 1e999999 would take seconds. Binary64 numbers need less than
// 400; beyond 1000, comparing as 512-bit floats is exact enough.
func choiceSmallExponent(s string) bool {
	i := strings.IndexAny(s, "eE")
	if i < 0 {
		return true
	}
	exp, err := strconv.Atoi(strings.TrimPrefix(s[i+1:], "+"))
	return err == nil && exp >= -1000 && exp <= 1000
}

// choiceIsJSONNumber reports whether s is spelled as a JSON number, which
// rules out what big.Rat would also accept, such as "1/2", "Inf" or "0x1".
func choiceIsJSONNumber(s string) bool {
	return s != "" && jsonvalid.ValidString(s) && (s[0] == '-' || s[0] >= '0' && s[0] <= '9')
}

// choiceTimestamp parses an RFC 3339 timestamp as Step Functions requires
// it: an uppercase T between date and time, and an uppercase Z when there
// is no numeric offset. Fractional seconds are allowed.
func choiceTimestamp(v any) (time.Time, bool) {
	s, ok := v.(string)
	if !ok || len(s) < len("2006-01-02T15:04:05Z") || s[10] != 'T' || strings.ContainsAny(s, "tz") {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}
