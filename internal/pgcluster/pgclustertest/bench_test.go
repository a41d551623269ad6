package pgclustertest_test

import (
	"testing"

	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
)

// BenchmarkDatabase measures what a test pays for a fresh, fully migrated
// database: a clone of the template. (The drops run at cleanup, outside the
// measured loop.)
func BenchmarkDatabase(b *testing.B) {
	pgclustertest.AdminURL(b) // the cluster and template are built once, outside the loop
	b.ReportAllocs()
	for b.Loop() {
		pgclustertest.Database(b)
	}
}

// BenchmarkServerCPU measures one reading of the throwaway cluster's
// server's CPU, which benchmarks that report it make around what they
// time (outside it, but inside their loops and their allocations).
func BenchmarkServerCPU(b *testing.B) {
	read, ok := pgclustertest.ServerCPU(b)
	if !ok {
		b.Skip("the server's CPU cannot be read here")
	}
	b.ReportAllocs()
	for b.Loop() {
		read()
	}
}
