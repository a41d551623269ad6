package expr_test

import (
	"fmt"

	"github.com/aiflow/aiflow/internal/workflow/expr"
)

func ExampleParse() {
	n, err := expr.Parse(`steps.classify.output.category == "refund" && input.amount > 100`)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(n)
	for _, p := range expr.Paths(n) {
		fmt.Println(p, "->", p.JSONPath())
	}

	_, err = expr.Parse(`inputs.amount > 100 &&`)
	fmt.Println(err)
	// Output:
	// steps.classify.output.category == "refund" && input.amount > 100
	// steps.classify.output.category -> $.steps.classify.output.category
	// input.amount -> $.input.amount
	// offset 0: unknown root "inputs"; a path starts with input, steps or context; did you mean "input"?
}

func ExampleParseTemplate() {
	t, err := expr.ParseTemplate(`Classify this message: {{ input.message }}`)
	if err != nil {
		fmt.Println(err)
		return
	}
	_, single := t.Single()
	fmt.Println(single, t.Paths())

	t, err = expr.ParseTemplate(`{{ steps.lookup.output }}`)
	if err != nil {
		fmt.Println(err)
		return
	}
	p, single := t.Single()
	fmt.Println(single, p.JSONPath())
	// Output:
	// false [input.message]
	// true $.steps.lookup.output
}

// env is an Env from a map of canonical paths.
type env map[string]expr.Type

func (e env) Lookup(p expr.Path) (expr.Type, error) {
	if t, ok := e[p.String()]; ok {
		return t, nil
	}
	if t, ok := expr.ContextType(p); ok {
		return t, nil
	}
	return expr.Type{}, &expr.LookupError{Path: p, Msg: fmt.Sprintf("nothing at %s", p)}
}

func ExampleCheck() {
	e := env{
		"input.amount":                   expr.TypeOf(expr.Number),
		"steps.classify.output.category": expr.TypeOf(expr.String),
		"steps.maybe.output":             {Kinds: expr.KindsOf(expr.String), Optional: true},
	}
	for _, src := range []string{
		`steps.classify.output.category == 100 && input.amount`,
		`exists(steps.maybe.output) && steps.maybe.output == "yes"`,
		`steps.maybe.output == "yes"`,
	} {
		n, err := expr.Parse(src)
		if err != nil {
			fmt.Println(err)
			continue
		}
		_, errs := expr.Check(n, e)
		fmt.Println(src, len(errs))
		for _, err := range errs {
			fmt.Println("  ", err)
		}
	}
	// Output:
	// steps.classify.output.category == 100 && input.amount 2
	//    offset 0: cannot compare string (steps.classify.output.category) with number 100
	//    offset 41: "&&" needs booleans, got number (input.amount); compare it with a value, like input.amount == ..., or test it with exists(input.amount)
	// exists(steps.maybe.output) && steps.maybe.output == "yes" 0
	// steps.maybe.output == "yes" 1
	//    offset 0: steps.maybe.output may be absent, and reading an absent value fails the execution; test it first: exists(steps.maybe.output) && ...
}

func ExamplePath_JSONPath() {
	for _, src := range []string{
		`input.customer["first name"]`,
		`steps.lookup-customer.output.orders[0]`,
		`context.execution.start_time`,
		`context.map.item.value.id`,
	} {
		n, err := expr.Parse(src)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(n.(expr.Path).JSONPath())
	}
	// Output:
	// $.input.customer['first name']
	// $.steps['lookup-customer'].output.orders[0]
	// $$.Execution.StartTime
	// $$.Map.Item.Value.id
}
