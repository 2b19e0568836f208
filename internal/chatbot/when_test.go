package chatbot

import (
	"errors"
	"testing"
	"time"
)

// TestParseWhen reads every form of the reminder time grammar against a
// fixed clock: Wednesday 2026-11-25 14:30 in Asia/Shanghai.
func TestParseWhen(t *testing.T) {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 25, 14, 30, 0, 0, loc) // a Wednesday
	at := func(y int, m time.Month, d, h, mi int) time.Time { return time.Date(y, m, d, h, mi, 0, 0, loc) }
	tests := []struct {
		in   string
		want time.Time
		rest string
		err  error
	}{
		{"今天 16:00 回电话", at(2026, 11, 25, 16, 0), "回电话", nil},
		{"今天16:00回电话", at(2026, 11, 25, 16, 0), "回电话", nil},
		{"今天 9:00 太早", time.Time{}, "", ErrPastTime},
		{"明天 09:30 发报价", at(2026, 11, 26, 9, 30), "发报价", nil},
		{"明天 9：05 全角冒号", at(2026, 11, 26, 9, 5), "全角冒号", nil},
		{"后天 18:00 拜访", at(2026, 11, 27, 18, 0), "拜访", nil},
		{"3天后 跟进合同", at(2026, 11, 28, 9, 0), "跟进合同", nil},
		{"3天后 15:00 跟进合同", at(2026, 11, 28, 15, 0), "跟进合同", nil},
		{"10天后", at(2026, 12, 5, 9, 0), "", nil},
		{"0天后 x", time.Time{}, "", ErrBadTime},
		{"下周一 10:00 周会", at(2026, 11, 30, 10, 0), "周会", nil},
		{"下周三 08:00 三", at(2026, 12, 2, 8, 0), "三", nil},
		{"下周日 20:00", at(2026, 12, 6, 20, 0), "", nil},
		{"下周五", at(2026, 12, 4, 9, 0), "", nil},
		{"2026-12-01 10:00 续约", at(2026, 12, 1, 10, 0), "续约", nil},
		{"2027-1-5 8:15 开年", at(2027, 1, 5, 8, 15), "开年", nil},
		{"2026-02-30 10:00 x", time.Time{}, "", ErrBadTime},
		{"2026-11-01 10:00 过去", time.Time{}, "", ErrPastTime},
		{"明天 24:00 x", time.Time{}, "", ErrBadTime},
		{"明天 12:60 x", time.Time{}, "", ErrBadTime},
		{"today 18:00 call back", at(2026, 11, 25, 18, 0), "call back", nil},
		{"Tomorrow 7:45 Send Quote", at(2026, 11, 26, 7, 45), "Send Quote", nil},
		{"in 2 days 11:00 visit", at(2026, 11, 27, 11, 0), "visit", nil},
		{"in 1 day check", at(2026, 11, 26, 9, 0), "check", nil},
		{"next monday 09:00 weekly", at(2026, 11, 30, 9, 0), "weekly", nil},
		{"Next Fri 16:30 demo", at(2026, 12, 4, 16, 30), "demo", nil},
		{"next wednesday", at(2026, 12, 2, 9, 0), "", nil},
		// Lowering "İ" shortens it by a byte; the rest must still be cut after the whole match (fuzz find).
		{"next frİday 10:00 demo", at(2026, 12, 4, 10, 0), "demo", nil},
		{"İn 2 days call", at(2026, 11, 27, 9, 0), "call", nil},
		{"someday soon", time.Time{}, "", ErrNoTime},
		{"明天下午", time.Time{}, "", ErrNoTime},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, rest, err := ParseWhen(tt.in, now, loc)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err %v, want %v", err, tt.err)
			}
			if err != nil {
				return
			}
			if !got.Equal(tt.want) || got.Location() != loc || rest != tt.rest {
				t.Errorf("got %v rest %q, want %v rest %q", got, rest, tt.want, tt.rest)
			}
		})
	}
	// On a Sunday "下周一" is the next day (weeks start on Monday).
	sunday := time.Date(2026, 11, 29, 12, 0, 0, 0, loc)
	if got, _, err := ParseWhen("下周一 09:00", sunday, loc); err != nil || !got.Equal(at(2026, 11, 30, 9, 0)) {
		t.Errorf("下周一 on a Sunday: %v %v", got, err)
	}
}
