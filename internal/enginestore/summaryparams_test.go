package enginestore

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"
)

// The upsert's parameters as the store encodes them are the bytes pgx
// sends for the same values, NULLs, odd times and strings included.
func TestUpsertParamsArePgxs(t *testing.T) {
	t.Parallel()
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339Nano, s)
		require.NoError(t, err)
		return tm
	}
	stop := at("2026-12-06T23:06:22.598480123Z")
	before := at("1969-07-20T20:17:40.5-05:00")
	cases := map[string]*summaries{
		"one row": {
			arns: []string{"arn:aws:states:us-east-1:123456789012:execution:m:a"}, machines: []string{"arn:aws:states:us-east-1:123456789012:stateMachine:m"},
			names: []string{"a"}, statuses: []string{"RUNNING"}, starts: []time.Time{at("2026-12-06T23:06:22.591678Z")}, stops: []*time.Time{nil},
			inputs: []string{`{"n":0}`}, outputs: []string{""}, errs: []string{""}, causes: []string{""}, trace: []string{""},
			seqs: []int64{1}, redriveCounts: []int32{0}, redriveDates: []*time.Time{nil}, versions: []string{""}, aliases: []string{""},
		},
		"several, NULLs among them": {
			arns: []string{"a", "b", "c"}, machines: []string{"m", "m", "m"}, names: []string{"ä", "名前", ""},
			statuses: []string{"RUNNING", "SUCCEEDED", "FAILED"},
			starts:   []time.Time{at("2000-01-01T00:00:00Z"), before, at("2262-04-11T23:47:16.854775807Z")},
			stops:    []*time.Time{nil, &stop, &before},
			inputs:   []string{"{}", `{"s":"quote \" and \\ and \n"}`, ""}, outputs: []string{"", "{}", ""},
			errs: []string{"", "", "States.TaskFailed"}, causes: []string{"", "", "a cause\x01"}, trace: []string{"Root=1-2-3", "", ""},
			seqs: []int64{1, 4, 9_223_372_036_854_775_807}, redriveCounts: []int32{0, 1, -2_147_483_648},
			redriveDates: []*time.Time{nil, nil, &stop}, versions: []string{"", "arn:v:1", ""}, aliases: []string{"", "", "arn:a"},
		},
	}
	m := pgtype.NewMap()
	for name, s := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			values := []any{s.arns, s.machines, s.names, s.statuses, s.starts, s.stops, s.inputs, s.outputs, s.errs, s.causes, s.trace,
				s.seqs, s.redriveCounts, s.redriveDates, s.versions, s.aliases}
			require.Len(t, values, len(upsertParamOIDs))
			for round := range 2 { // the second into a buffer used before, as a pooled one is
				p := upsertParams(s)
				got, err := p.Values()
				require.NoError(t, err)
				require.Len(t, got, len(values))
				for i, v := range values {
					want, err := m.Encode(upsertParamOIDs[i], pgtype.BinaryFormatCode, v, nil)
					require.NoError(t, err)
					require.Equal(t, want, got[i], "$%d, round %d", i+1, round)
				}
				p.Release()
			}
		})
	}
}
