// Package rfm classifies customers by recency, frequency and monetary value
// of their live sales (RFM) into the eight standard segments. The
// thresholds are the company's (report settings); the report, the customer
// list's rfm_segment filter and the customer export share this one rule.
package rfm

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/store"
)

// Segments are the eight segments in their customary order.
var Segments = []string{
	"important_value",   // 重要价值客户: recent, frequent, high value
	"important_develop", // 重要发展客户: recent, infrequent, high value
	"important_keep",    // 重要保持客户: not recent, frequent, high value
	"important_retain",  // 重要挽留客户: not recent, infrequent, high value
	"general_value",     // 一般价值客户: recent, frequent, low value
	"general_develop",   // 一般发展客户: recent, infrequent, low value
	"general_keep",      // 一般保持客户: not recent, frequent, low value
	"general_retain",    // 一般挽留客户: not recent, infrequent, low value
}

// Valid reports whether s names a segment.
func Valid(s string) bool {
	for _, x := range Segments {
		if x == s {
			return true
		}
	}
	return false
}

// Segment is the segment of a customer whose recency, frequency and
// monetary value are high (true) or low.
func Segment(recent, frequent, valuable bool) string {
	i := 0
	if !valuable {
		i += 4
	}
	if !recent {
		i += 2
	}
	if !frequent {
		i++
	}
	return []string{"important_value", "important_develop", "important_keep", "important_retain",
		"general_value", "general_develop", "general_keep", "general_retain"}[i]
}

// flags are a segment's three highs.
func flags(seg string) (recent, frequent, valuable bool) {
	for _, r := range []bool{true, false} {
		for _, f := range []bool{true, false} {
			for _, m := range []bool{true, false} {
				if Segment(r, f, m) == seg {
					return r, f, m
				}
			}
		}
	}
	return false, false, false
}

// Settings are the thresholds.
type Settings struct {
	// WindowDays: only sales dated within this many days up to today count.
	WindowDays int `json:"window_days"`
	// RecencyDays: a last sale at most this many days ago is recent.
	RecencyDays int `json:"recency_days"`
	// Frequency: at least this many sales is frequent.
	Frequency int `json:"frequency"`
	// MonetaryFen: at least this much (fen) in the window is high value.
	MonetaryFen int64 `json:"monetary_fen"`
}

// Defaults: a year of sales; a sale in the last 90 days, two or more
// sales and ¥10,000 or more count as high.
func Defaults() Settings {
	return Settings{WindowDays: 365, RecencyDays: 90, Frequency: 2, MonetaryFen: 1_000_000}
}

// Validate refuses thresholds that cannot classify anyone sensibly.
func (s Settings) Validate() error {
	var v errs.Invalid
	if s.WindowDays < 1 || s.WindowDays > 3660 {
		v.Add("window_days", "rfm.window_days")
	}
	if s.RecencyDays < 1 || s.RecencyDays > s.WindowDays {
		v.Add("recency_days", "rfm.recency_days")
	}
	if s.Frequency < 1 || s.Frequency > 100000 {
		v.Add("frequency", "rfm.frequency")
	}
	if s.MonetaryFen < 1 || s.MonetaryFen > 1e14 {
		v.Add("monetary_fen", "rfm.monetary_fen")
	}
	return v.Err()
}

// Window is the first and last sale date that count, as of today.
func (s Settings) Window(today time.Time) (from, to string) {
	return today.AddDate(0, 0, -s.WindowDays+1).Format("2006-01-02"), today.Format("2006-01-02")
}

// RecentSince is the earliest last-sale date that is recent.
func (s Settings) RecentSince(today time.Time) string {
	return today.AddDate(0, 0, -s.RecencyDays+1).Format("2006-01-02")
}

// Classify is a customer's segment from their last sale date, count and sum.
func (s Settings) Classify(today time.Time, last string, count, amountFen int64) string {
	return Segment(last >= s.RecentSince(today), count >= int64(s.Frequency), amountFen >= s.MonetaryFen)
}

// CustomerCond is the SQL condition "customer col is in segment seg as of
// today" over live sales in the window.
func (s Settings) CustomerCond(col, seg string, today time.Time) (string, []any) {
	r, f, m := flags(seg)
	from, to := s.Window(today)
	op := func(high bool) string {
		if high {
			return ">="
		}
		return "<"
	}
	return col + ` IN (SELECT rs.customer_id FROM sales rs WHERE rs.deleted_at IS NULL AND rs.sale_date >= ? AND rs.sale_date <= ?
		GROUP BY rs.customer_id HAVING MAX(rs.sale_date) ` + op(r) + ` ? AND COUNT(*) ` + op(f) + ` ? AND SUM(rs.amount_fen) ` + op(m) + ` ?)`,
		[]any{from, to, s.RecentSince(today), s.Frequency, s.MonetaryFen}
}

// settingName is the row of report_settings holding the thresholds.
const settingName = "rfm"

// Load reads the thresholds (the defaults when never saved).
func Load(ctx context.Context, x sqlx.QueryerContext) (Settings, error) {
	var raw string
	err := sqlx.GetContext(ctx, x, &raw, "SELECT value FROM report_settings WHERE name = ?", settingName)
	if store.IsNoRows(err) {
		return Defaults(), nil
	}
	if err != nil {
		return Settings{}, fmt.Errorf("rfm: load settings: %w", err)
	}
	s := Defaults()
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		return Settings{}, fmt.Errorf("rfm: stored settings: %w", err)
	}
	return s, nil
}

// Save writes the thresholds inside tx.
func Save(ctx context.Context, tx *sqlx.Tx, d store.Dialect, s Settings, by int64) error {
	b, _ := json.Marshal(s)
	q := "INSERT INTO report_settings (name, value, updated_by, updated_at) VALUES (?, ?, ?, ?) "
	if d == store.MySQL {
		q += "ON DUPLICATE KEY UPDATE value = VALUES(value), updated_by = VALUES(updated_by), updated_at = VALUES(updated_at)"
	} else {
		q += "ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_by = excluded.updated_by, updated_at = excluded.updated_at"
	}
	if _, err := tx.ExecContext(ctx, q, settingName, string(b), by, store.Now()); err != nil {
		return fmt.Errorf("rfm: save settings: %w", err)
	}
	return nil
}
