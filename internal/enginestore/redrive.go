package enginestore

import (
	"time"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/sfn"
)

// redrives reports whether a group holds a redrive: the commit that turns
// a closed execution's summary RUNNING again, which is written like a
// start or an end.
func (g *group) redrives(commits []engine.Commit) bool {
	for _, i := range g.commits {
		if commits[i].Redrive {
			return true
		}
	}
	return false
}

// addRedrive adds a summary's redrive count and date.
func (s *summaries) addRedrive(r engine.ExecutionRecord) {
	var date *time.Time
	if !r.RedriveDate.IsZero() {
		t := storeTime(r.RedriveDate)
		date = &t
	}
	s.redriveCounts = append(s.redriveCounts, int32(r.RedriveCount))
	s.redriveDates = append(s.redriveDates, date)
}

// redriveCondition is the WHERE condition of ListExecutions' redrive
// filter.
func redriveCondition(f sfn.RedriveFilter) string {
	switch f {
	case sfn.RedriveFilterRedriven:
		return ` AND redrive_count > 0`
	case sfn.RedriveFilterNotRedriven:
		return ` AND redrive_count = 0`
	}
	return ""
}
