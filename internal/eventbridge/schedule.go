package eventbridge

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Scheduled events, as EventBridge sends them to a scheduled rule's
// targets.
const (
	ScheduledEventSource     = "aws.events"
	ScheduledEventDetailType = "Scheduled Event"
)

// ParseRate reads a rate expression, rate(value unit), as EventBridge
// accepts it: a positive whole value and a unit of minute, hour or day,
// singular for 1 and plural otherwise. Cron expressions are refused with
// an error that says so: this bus runs rate schedules only.
func ParseRate(expr string) (time.Duration, error) {
	if strings.HasPrefix(expr, "cron(") {
		return 0, fmt.Errorf("%q: this bus runs rate(...) schedules, not cron(...) ones", expr)
	}
	inner, ok := strings.CutPrefix(expr, "rate(")
	if ok {
		inner, ok = strings.CutSuffix(inner, ")")
	}
	fields := strings.Fields(inner)
	if !ok || len(fields) != 2 {
		return 0, fmt.Errorf("%q is not a rate expression, rate(value unit)", expr)
	}
	n, err := strconv.Atoi(fields[0])
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q: the value %q is not a positive whole number", expr, fields[0])
	}
	units := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}
	unit := fields[1]
	if n != 1 {
		var plural bool
		if unit, plural = strings.CutSuffix(unit, "s"); !plural {
			return 0, fmt.Errorf("%q: a value other than 1 takes a plural unit (minutes, hours, days)", expr)
		}
	}
	d, ok := units[unit]
	if !ok {
		return 0, fmt.Errorf("%q: the unit %q is not minute(s), hour(s) or day(s)", expr, fields[1])
	}
	return time.Duration(n) * d, nil
}

// startSchedules starts a goroutine per enabled scheduled rule, owned by
// the Bus (Close stops it): each tick delivers a Scheduled Event to the
// rule's targets, the first at once when atStart is set, else one rate
// after NewBus.
func (b *Bus) startSchedules(atStart bool) {
	for _, r := range b.rules {
		if r.every == 0 || !r.src.Enabled {
			continue
		}
		first := r.every
		if atStart {
			first = 0
		}
		b.wg.Add(1)
		go b.runSchedule(r, first)
	}
}

func (b *Bus) runSchedule(r *rule, first time.Duration) {
	defer b.wg.Done()
	for d := first; ; d = r.every {
		fired := make(chan struct{})
		stop := b.clock.AfterFunc(d, func() { close(fired) })
		select {
		case <-fired:
		case <-b.ctx.Done():
			stop()
			return
		}
		b.tick(r)
	}
}

// tick delivers one Scheduled Event to rule r's targets.
func (b *Bus) tick(r *rule) {
	now := b.clock.Now()
	ev := Event{Version: "0", ID: b.newID(), DetailType: ScheduledEventDetailType, Source: ScheduledEventSource,
		Account: b.accountID, Time: now, Region: b.region, Resources: []string{r.src.ARN}, Detail: json.RawMessage(`{}`)}
	body, err := json.Marshal(ev)
	if err != nil {
		b.log.Error("making a scheduled event", "rule", r.src.LogicalID, "error", err)
		return
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		b.log.Error("making a scheduled event", "rule", r.src.LogicalID, "error", err)
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.deliverLocked(b.ctx, r, ev.ID, body, m, now, false)
}
