package deal

import (
	"strings"
	"unicode/utf8"

	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/option"
	"github.com/dingcrm/crm/internal/paging"
	"github.com/dingcrm/crm/internal/product"
	"github.com/dingcrm/crm/internal/sale"
)

// Limits on field lengths, in characters.
const (
	maxTitle = 100
	maxNotes = 2000
)

// apply validates the plain fields of in and writes them onto o. Lines,
// customer, owner and stage need the database and are checked apart.
func apply(o *Opportunity, in Input) error {
	var v errs.Invalid
	if in.CustomerID != nil {
		switch {
		case *in.CustomerID == 0:
			v.Add("customer_id", "validation.required")
		case *in.CustomerID < 0:
			v.Add("customer_id", "sale.customer_unknown")
		}
		o.CustomerID = *in.CustomerID
	}
	if in.Title != nil {
		o.Title = product.Text(&v, "title", *in.Title, maxTitle, true)
	}
	if in.AmountFen != nil {
		product.CheckFen(&v, "amount_fen", *in.AmountFen)
		o.AmountFen = *in.AmountFen
	}
	if in.ExpectedCloseDate.Set {
		o.ExpectedCloseDate = nil
		if p := in.ExpectedCloseDate.Value; p != nil && *p != "" {
			d := sale.CheckDate(&v, "expected_close_date", *p)
			o.ExpectedCloseDate = &d
		}
	}
	if in.Notes != nil {
		o.Notes = product.Text(&v, "notes", *in.Notes, maxNotes, false)
	}
	checkProbability(&v, in.Probability)
	return v.Err()
}

func checkProbability(v *errs.Invalid, p *int) {
	if p != nil && (*p < 0 || *p > 100) {
		v.Add("probability", "deal.probability")
	}
}

// checkLostReason: a new reason must be one the company offers; the reason
// an opportunity already has stays valid after it is retired.
func checkLostReason(v *errs.Invalid, r *string, old string, reasons option.Set) {
	if r != nil {
		reasons.Check(v, "lost_reason", *r, old)
	}
}

// validFilter checks the list parameters a person can get wrong.
func validFilter(f *Filter) error {
	var v errs.Invalid
	paging.Check(&v, &f.Page, &f.PageSize)
	if f.Status != "" && f.Status != StatusOpen && f.Status != StatusWon && f.Status != StatusLost {
		v.Add("status", "validation.not_an_option")
	}
	if f.CloseFrom != "" {
		f.CloseFrom = string(sale.CheckDate(&v, "close_from", f.CloseFrom))
	}
	if f.CloseTo != "" {
		f.CloseTo = string(sale.CheckDate(&v, "close_to", f.CloseTo))
	}
	if !v.Has("close_from") && !v.Has("close_to") && f.CloseFrom != "" && f.CloseTo != "" && f.CloseTo < f.CloseFrom {
		v.Add("close_to", "validation.range_order")
	}
	f.Q = strings.TrimSpace(f.Q)
	if utf8.RuneCountInString(f.Q) > 100 {
		v.Add("q", "validation.too_long", "max", 100)
	}
	return v.Err()
}
