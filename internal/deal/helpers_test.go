package deal_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/deal"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/product"
	"github.com/dingcrm/crm/internal/sale"
	"github.com/dingcrm/crm/internal/sale/saletest"
)

var shanghai, _ = time.LoadLocation("Asia/Shanghai")

func ptr[T any](v T) *T { return &v }

func fields(err error) map[string]errs.Field {
	var e *errs.Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

// fixture is the org with the deal and sale services on one database.
type fixture struct {
	*saletest.Org
	deals *deal.Service
	sales *sale.Service
	board map[string]deal.Stage // by code
}

func newFixture(t testing.TB, org *saletest.Org) *fixture {
	t.Helper()
	sales := sale.NewService(org.DB, customer.NewStore(org.DB), org.Loader, shanghai)
	f := &fixture{Org: org, sales: sales, deals: deal.NewService(org.DB, customer.NewStore(org.DB), org.Loader, sales)}
	f.reloadBoard(t)
	return f
}

func (f *fixture) reloadBoard(t testing.TB) {
	t.Helper()
	stages, err := f.deals.Stages(context.Background(), f.As(t, "sim_s1"))
	if err != nil {
		t.Fatal(err)
	}
	f.board = map[string]deal.Stage{}
	for _, st := range stages {
		f.board[st.Code] = st
	}
}

func (f *fixture) stage(code string) *int64 { id := f.board[code].ID; return &id }

// opp adds an opportunity for a customer of who's, in the given stage.
func (f *fixture) opp(t testing.TB, who, title string, fen int64, stage string) *deal.Opportunity {
	t.Helper()
	cust := f.Customer(t, who, "客户"+title)
	in := deal.Input{CustomerID: &cust, Title: &title, AmountFen: &fen, StageID: f.stage(stage)}
	if f.board[stage].Kind == deal.KindLost {
		in.LostReason = ptr("price")
	}
	o, err := f.deals.Create(context.Background(), f.As(t, who), in)
	if err != nil {
		t.Fatalf("opportunity %s: %v", title, err)
	}
	return o
}

func lines(items ...[2]int64) *[]product.LineInput {
	out := []product.LineInput{}
	for _, it := range items {
		out = append(out, product.LineInput{ProductID: ptr(it[0]), Quantity: ptr(it[1])})
	}
	return &out
}
