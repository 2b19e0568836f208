package excel

import (
	"context"
	"strings"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/customer"
)

// CustomerLister is what a customer export reads: the customer list.
type CustomerLister interface {
	List(ctx context.Context, a *auth.Actor, f customer.Filter) ([]customer.Customer, int, error)
}

// SegmentReader gives customers' RFM segment codes (package report); a
// customer with no sales in the window has none.
type SegmentReader interface {
	Segments(ctx context.Context, ids []int64) (map[int64]string, error)
}

// CustomerSource is the export of the customer list with the list's filter
// f (its page and page size are ignored: the export pages by itself). Its
// first columns are the import's, so an export imports back; the rest are
// facts an import cannot set, which an import reads past.
// The last column is the customer's RFM segment (客户分类) from segments
// (left empty when segments is nil).
func CustomerSource(list CustomerLister, f customer.Filter, segments SegmentReader) Source {
	var seg map[int64]string
	return &listSource[customer.Customer]{
		entity: "customer", perm: "customer.export",
		columns: cols("name", "phone", "company", "address", "industry", "source", "level", "status", "tags", "note",
			"owner", "department", "next_follow_at", "last_follow_at", "created_by", "created_at", "updated_at", "rfm_segment"),
		page: func(ctx context.Context, a *auth.Actor, page, size int) ([]customer.Customer, int, error) {
			f.Page, f.PageSize = page, size
			items, total, err := list.List(ctx, a, f)
			if err != nil || segments == nil {
				return items, total, err
			}
			ids := make([]int64, len(items))
			for i := range items {
				ids[i] = items[i].ID
			}
			seg, err = segments.Segments(ctx, ids)
			return items, total, err
		},
		row: func(c *customer.Customer, l Locale) []string {
			out := customerRow(c, l)
			if code := seg[c.ID]; code != "" {
				return append(out, l.T("rfm.segment."+code))
			}
			return append(out, "")
		},
		filter: summarize(map[string]string{
			"q": strings.TrimSpace(f.Q), "owner_id": id(f.OwnerID), "department_id": id(f.DepartmentID),
			"level": f.Level, "status": f.Status, "source": f.Source, "industry": f.Industry, "tag": f.Tag,
			"sort": f.Sort, "created_from": stamp(f.CreatedFrom), "created_to": stamp(f.CreatedTo),
			"next_follow_from": stamp(f.NextFollowFrom), "next_follow_to": stamp(f.NextFollowTo),
		}),
	}
}

func customerRow(c *customer.Customer, l Locale) []string {
	return []string{c.Name, c.Phone, c.Company, c.Address, l.Option("industry", c.Industry),
		l.Option("source", c.Source), l.Option("level", c.Level), l.Option("status", c.Status),
		l.List(c.Tags), c.Note, c.OwnerName, c.DepartmentName, l.Time(c.NextFollowAt), l.Time(c.LastFollowAt),
		c.CreatedByName, l.Time(&c.CreatedAt), l.Time(&c.UpdatedAt)}
}
