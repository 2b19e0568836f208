package outbox

import "time"

// QuietHours says whether now is in the quiet hours and when they end.
// The lead wires the company settings' quiet hours to it; DefaultQuietHours
// is 22:00–08:00 in the company time zone.
type QuietHours interface {
	Quiet(now time.Time) (bool, time.Time)
}

// QuietFunc adapts a function to QuietHours.
type QuietFunc func(now time.Time) (bool, time.Time)

// Quiet implements QuietHours.
func (f QuietFunc) Quiet(now time.Time) (bool, time.Time) { return f(now) }

// Window is a daily quiet window from Start to End (minutes after local
// midnight; Start > End spans midnight; Start == End: never quiet).
type Window struct {
	Start, End int
	Location   *time.Location
}

// DefaultQuietHours is 22:00–08:00 in loc.
func DefaultQuietHours(loc *time.Location) Window {
	return Window{Start: 22 * 60, End: 8 * 60, Location: loc}
}

// Quiet implements QuietHours.
func (w Window) Quiet(now time.Time) (bool, time.Time) {
	if w.Start == w.End {
		return false, time.Time{}
	}
	loc := w.Location
	if loc == nil {
		loc = time.Local
	}
	t := now.In(loc)
	midnight := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
	m := t.Hour()*60 + t.Minute()
	at := func(day, minutes int) time.Time {
		return midnight.AddDate(0, 0, day).Add(time.Duration(minutes) * time.Minute)
	}
	if w.Start < w.End {
		if m >= w.Start && m < w.End {
			return true, at(0, w.End)
		}
		return false, time.Time{}
	}
	switch {
	case m >= w.Start:
		return true, at(1, w.End)
	case m < w.End:
		return true, at(0, w.End)
	}
	return false, time.Time{}
}

// Never is no quiet hours at all (tests, benchmarks).
var Never = Window{}
