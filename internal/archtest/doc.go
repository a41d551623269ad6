// Package archtest checks the rules of the architecture that the compiler
// does not: which packages may import which (the pure core imports no SDK,
// the engine knows only its contract, adapters never import each other,
// only wiring imports the engine, production code never imports a test
// helper), what each Lambda function links, and that every package has a
// package comment. Its tests read the import graph with go list; they run
// with go test ./... and from make lint, and each failure names the
// importing package, the forbidden import and the rule.
package archtest
