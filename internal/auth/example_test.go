package auth_test

import (
	"fmt"

	"github.com/aiflow/aiflow/internal/auth"
)

// The policy, one line per permission: the least trusted role that holds
// it. Every more trusted role holds it too.
func ExampleMinimumRole() {
	for _, p := range auth.Permissions() {
		r, _ := auth.MinimumRole(p)
		fmt.Printf("%-18s %s\n", p, r)
	}
	// Output:
	// approvals:decide   operator
	// approvals:read     viewer
	// audit:read         admin
	// executions:read    viewer
	// executions:start   operator
	// executions:stop    operator
	// health             viewer
	// workflows:publish  author
	// workflows:read     viewer
}
