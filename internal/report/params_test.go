package report

import (
	"testing"
	"time"
)

func d(s string) time.Time { t, _ := time.Parse(day, s); return t }

func TestPeriods(t *testing.T) {
	today := d("2026-11-27") // a Friday
	for _, c := range []struct{ preset, from, to string }{
		{"today", "2026-11-27", "2026-11-27"}, {"this_week", "2026-11-23", "2026-11-29"},
		{"this_month", "2026-11-01", "2026-11-30"}, {"this_quarter", "2026-10-01", "2026-12-31"},
		{"this_year", "2026-01-01", "2026-12-31"}, {"last_month", "2026-10-01", "2026-10-31"},
		{"last_quarter", "2026-07-01", "2026-09-30"}, {"last_year", "2025-01-01", "2025-12-31"},
	} {
		p := presetPeriod(c.preset, today)
		if p.from() != c.from || p.to() != c.to {
			t.Errorf("%s: %s ~ %s, want %s ~ %s", c.preset, p.from(), p.to(), c.from, c.to)
		}
	}
	if p := presetPeriod("last_month", d("2026-01-15")); p.from() != "2025-12-01" || p.to() != "2025-12-31" {
		t.Errorf("last month in January: %s ~ %s", p.from(), p.to())
	}
	for _, c := range []struct{ from, to, pfrom, pto, yfrom, yto string }{
		{"2026-03-01", "2026-03-31", "2026-02-01", "2026-02-28", "2025-03-01", "2025-03-31"},
		{"2024-02-01", "2024-02-29", "2024-01-01", "2024-01-31", "2023-02-01", "2023-02-28"},
		{"2026-03-10", "2026-03-19", "2026-02-28", "2026-03-09", "2025-03-10", "2025-03-19"},
		{"2026-01-01", "2026-06-30", "2025-07-01", "2025-12-31", "2025-01-01", "2025-06-30"},
	} {
		p := period{d(c.from), d(c.to)}
		if pp := p.previous(); pp.from() != c.pfrom || pp.to() != c.pto {
			t.Errorf("previous of %s~%s: %s~%s", c.from, c.to, pp.from(), pp.to())
		}
		if y := p.yearBefore(); y.from() != c.yfrom || y.to() != c.yto {
			t.Errorf("year before %s~%s: %s~%s", c.from, c.to, y.from(), y.to())
		}
	}
	bs := buckets(period{d("2026-11-25"), d("2026-12-08")}, "week")
	if len(bs) != 3 || bs[0].From.Format(day) != "2026-11-25" || bs[0].To.Format(day) != "2026-11-29" || bs[2].To.Format(day) != "2026-12-08" {
		t.Errorf("weeks: %+v", bs)
	}
}
