package excel

import (
	"context"
	"strconv"
	"strings"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/contact"
	"github.com/dingcrm/crm/internal/deal"
	"github.com/dingcrm/crm/internal/followup"
	"github.com/dingcrm/crm/internal/product"
	"github.com/dingcrm/crm/internal/sale"
)

// The exports of a customer's records. Each reads its module's own list
// (its permission checks, filters and data scope) through a small
// interface, and adds that module's <module>.export permission.

// ContactLister is what a contact export reads.
type ContactLister interface {
	List(ctx context.Context, a *auth.Actor, f contact.Filter) ([]contact.Contact, int, error)
}

// ContactSource is the export of the contact list with its filter f.
func ContactSource(list ContactLister, f contact.Filter) Source {
	return &listSource[contact.Contact]{
		entity: "contact", perm: "contact.export",
		columns: cols("contact.name", "contact.customer", "contact.title", "contact.phones", "contact.email",
			"contact.wechat", "contact.birthday", "contact.primary", "note", "created_by", "created_at"),
		page: func(ctx context.Context, a *auth.Actor, page, size int) ([]contact.Contact, int, error) {
			f.Page, f.PageSize = page, size
			return list.List(ctx, a, f)
		},
		row: func(c *contact.Contact, l Locale) []string {
			birthday := ""
			if c.Birthday != nil {
				birthday = string(*c.Birthday)
			}
			return []string{c.Name, c.CustomerName, c.Title, l.List(c.Phones), c.Email, c.WeChat, birthday,
				yesNo(c.IsPrimary, l), c.Notes, c.CreatedByName, l.Time(&c.CreatedAt)}
		},
		filter: summarize(map[string]string{"customer_id": id(f.CustomerID), "q": strings.TrimSpace(f.Q)}),
	}
}

// FollowupLister is what a follow-up export reads.
type FollowupLister interface {
	List(ctx context.Context, a *auth.Actor, f followup.Filter) ([]followup.Followup, int, error)
}

// FollowupSource is the export of the follow-up list with its filter f.
func FollowupSource(list FollowupLister, f followup.Filter) Source {
	return &listSource[followup.Followup]{
		entity: "followup", perm: "followup.export",
		columns: cols("followup.followed_at", "followup.customer", "followup.method", "followup.content",
			"followup.result", "followup.next_step", "next_follow_at", "followup.owner", "created_at"),
		page: func(ctx context.Context, a *auth.Actor, page, size int) ([]followup.Followup, int, error) {
			f.Page, f.PageSize = page, size
			return list.List(ctx, a, f)
		},
		row: func(x *followup.Followup, l Locale) []string {
			return []string{l.Time(&x.FollowedAt), x.CustomerName, l.Option("followup_method", x.Method), x.Content,
				x.Result, x.NextStep, l.Time(x.NextFollowAt), x.OwnerName, l.Time(&x.CreatedAt)}
		},
		filter: summarize(map[string]string{"customer_id": id(f.CustomerID), "owner_id": id(f.OwnerID),
			"method": f.Method, "from": stamp(f.From), "to": stamp(f.To)}),
	}
}

// SaleLister is what a sales export reads.
type SaleLister interface {
	List(ctx context.Context, a *auth.Actor, f sale.Filter) ([]sale.Sale, sale.Totals, error)
}

// SaleSource is the export of the sales list with its filter f. Amounts are
// yuan with two decimals, as the API shows them.
func SaleSource(list SaleLister, f sale.Filter) Source {
	return &listSource[sale.Sale]{
		entity: "sale", perm: "sale.export",
		columns: cols("sale.date", "sale.customer", "sale.amount", "sale.opportunity", "owner", "department",
			"note", "created_by", "created_at"),
		page: func(ctx context.Context, a *auth.Actor, page, size int) ([]sale.Sale, int, error) {
			f.Page, f.PageSize = page, size
			items, totals, err := list.List(ctx, a, f)
			return items, totals.Count, err
		},
		row: func(x *sale.Sale, l Locale) []string {
			opp := ""
			if x.OpportunityTitle != nil {
				opp = *x.OpportunityTitle
			}
			return []string{string(x.SaleDate), x.CustomerName, money(x.AmountHidden, x.AmountFen, x.Amount), opp, x.OwnerName,
				x.DepartmentName, x.Notes, x.CreatedByName, l.Time(&x.CreatedAt)}
		},
		filter: summarize(map[string]string{"customer_id": id(f.CustomerID), "owner_id": id(f.OwnerID),
			"department_id": id(f.DepartmentID), "product_id": id(f.ProductID), "from": f.From, "to": f.To}),
	}
}

// OpportunityLister is what an opportunity export reads.
type OpportunityLister interface {
	List(ctx context.Context, a *auth.Actor, f deal.Filter) ([]deal.Opportunity, int, error)
}

// OpportunitySource is the export of the opportunity list with its filter
// f. A default stage shows its name in the caller's language, as the list
// does; a stage an admin renamed shows that name.
func OpportunitySource(list OpportunityLister, f deal.Filter) Source {
	return &listSource[deal.Opportunity]{
		entity: "opportunity", perm: "opportunity.export",
		columns: cols("opportunity.title", "opportunity.customer", "opportunity.amount", "opportunity.stage",
			"opportunity.probability", "opportunity.status", "opportunity.close_date", "opportunity.lost_reason",
			"owner", "department", "note", "created_by", "created_at", "updated_at"),
		page: func(ctx context.Context, a *auth.Actor, page, size int) ([]deal.Opportunity, int, error) {
			f.Page, f.PageSize = page, size
			return list.List(ctx, a, f)
		},
		row: opportunityRow,
		filter: summarize(map[string]string{"customer_id": id(f.CustomerID), "owner_id": id(f.OwnerID),
			"department_id": id(f.DepartmentID), "stage": id(f.StageID), "status": f.Status,
			"close_from": f.CloseFrom, "close_to": f.CloseTo, "q": strings.TrimSpace(f.Q)}),
	}
}

// money is an amount for the sheet: the masked text ("***" or empty) when
// the reader's role may not see amounts.
func money(hidden bool, fen int64, masked string) string {
	if hidden {
		return masked
	}
	return product.FormatFen(fen)
}

func opportunityRow(o *deal.Opportunity, l Locale) []string {
	stage := o.StageName
	if deal.IsDefaultName(o.StageCode, o.StageName) {
		stage = l.Option("stage", o.StageCode)
	}
	closeDate := ""
	if o.ExpectedCloseDate != nil {
		closeDate = string(*o.ExpectedCloseDate)
	}
	return []string{o.Title, o.CustomerName, money(o.AmountHidden, o.AmountFen, o.Amount), stage, strconv.Itoa(o.Probability) + "%",
		l.Option("opportunity_status", o.Status), closeDate, l.Option("lost_reason", o.LostReason), o.OwnerName,
		o.DepartmentName, o.Notes, o.CreatedByName, l.Time(&o.CreatedAt), l.Time(&o.UpdatedAt)}
}
