package sale

import (
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/paging"
	"github.com/dingcrm/crm/internal/product"
)

const maxNotes = 2000

// apply validates the plain fields of in and writes them onto s. Lines are
// checked against the catalogue separately (they need the database).
func apply(s *Sale, in Input) error {
	var v errs.Invalid
	if in.CustomerID != nil {
		switch {
		case *in.CustomerID == 0:
			v.Add("customer_id", "validation.required")
		case *in.CustomerID < 0:
			v.Add("customer_id", "sale.customer_unknown")
		}
		s.CustomerID = *in.CustomerID
	}
	if in.SaleDate != nil {
		s.SaleDate = CheckDate(&v, "sale_date", *in.SaleDate)
	}
	if in.AmountFen != nil {
		product.CheckFen(&v, "amount_fen", *in.AmountFen)
		s.AmountFen = *in.AmountFen
	}
	if in.Notes != nil {
		s.Notes = product.Text(&v, "notes", *in.Notes, maxNotes, false)
	}
	if in.OpportunityID.Set {
		if id := in.OpportunityID.Value; id != nil && *id < 1 {
			v.Add("opportunity_id", "sale.opportunity_unknown")
		}
		s.OpportunityID = in.OpportunityID.Value
	}
	return v.Err()
}

// validFilter checks the list parameters a person can get wrong.
func validFilter(f *Filter) error {
	var v errs.Invalid
	paging.Check(&v, &f.Page, &f.PageSize)
	if f.From != "" {
		f.From = string(CheckDate(&v, "from", f.From))
	}
	if f.To != "" {
		f.To = string(CheckDate(&v, "to", f.To))
	}
	if !v.Has("from") && !v.Has("to") && f.From != "" && f.To != "" && f.To < f.From {
		v.Add("to", "validation.range_order")
	}
	return v.Err()
}
