package product

import (
	"fmt"

	"github.com/dingcrm/crm/internal/errs"
)

// Money is integer fen (分, 1/100 yuan) everywhere: stored as BIGINT, sent
// in JSON as an integer "…_fen" field beside a display string, and only ever
// added and multiplied as integers, so 3 × 33.33 is exactly 99.99.
const (
	// MaxFen is the largest amount the CRM accepts (10^12 fen = 100 亿元):
	// anything bigger is a typing mistake, and products of quantities and
	// prices stay far from int64's limit.
	MaxFen int64 = 1_000_000_000_000
	// MaxQuantity bounds a line's quantity (whole units).
	MaxQuantity int64 = 1_000_000
)

// FormatFen renders fen as yuan with two decimals ("12345.67"), the
// display string sent beside every amount.
func FormatFen(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return fmt.Sprintf("%s%d.%02d", sign, fen/100, fen%100)
}

// CheckFen records a problem with an amount outside 0 … MaxFen.
func CheckFen(v *errs.Invalid, field string, fen int64) {
	if fen < 0 || fen > MaxFen {
		v.Add(field, "product.money_range", "max", FormatFen(MaxFen))
	}
}
