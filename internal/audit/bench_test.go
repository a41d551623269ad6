package audit

import (
	"context"
	"testing"

	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
)

// BenchmarkAppend measures one append on a durable server: after the
// first, one statement that moves the head on from where the log left it
// and inserts the record.
func BenchmarkAppend(b *testing.B) {
	b.ReportAllocs()
	l := New(pgclustertest.Pool(b), Options{})
	rec := record(1)
	ctx := context.Background()
	for b.Loop() {
		if _, err := l.Append(ctx, rec); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCanonicalHash measures normalizing a record and hashing it.
func BenchmarkCanonicalHash(b *testing.B) {
	b.ReportAllocs()
	rec := record(1)
	for b.Loop() {
		n, err := normalize(rec)
		if err != nil {
			b.Fatal(err)
		}
		e := Entry{Seq: 1, Record: n}
		_ = e.computeHash()
	}
}

// BenchmarkAppendConcurrent measures appends from 32 goroutines, which the
// log commits in groups.
func BenchmarkAppendConcurrent(b *testing.B) {
	b.ReportAllocs()
	l := New(pgclustertest.Pool(b), Options{})
	rec := record(1)
	ctx := context.Background()
	b.SetParallelism(16)
	b.ResetTimer() // not the database's setup
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := l.Append(ctx, rec); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
