package deal

import (
	"context"
	"fmt"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/paging"
	"github.com/dingcrm/crm/internal/product"
)

// ErrStageNotFound answers a column that is not on the board.
var ErrStageNotFound = errs.NotFound("deal.stage_not_found")

// DefaultPerStage is how many cards each column shows first.
const DefaultPerStage = 20

// PipelineFilter narrows the board to an owner or a department.
type PipelineFilter struct {
	OwnerID      int64
	DepartmentID int64
	// PerStage is how many cards each open column carries (1–100).
	PerStage int
}

// Sums are a column's figures over every opportunity in it (in scope and
// filter), not only the cards shown. Weighted is Σ amount × probability.
type Sums struct {
	Count             int    `json:"count"`
	AmountFen         int64  `json:"amount_fen"`
	Amount            string `json:"amount"`
	WeightedAmountFen int64  `json:"weighted_amount_fen"`
	WeightedAmount    string `json:"weighted_amount"`
	AmountHidden      bool   `json:"amount_hidden,omitempty"`
}

// Column is one open stage of the kanban: its sums and its first cards.
type Column struct {
	Stage Stage `json:"stage"`
	Sums
	Items []Opportunity `json:"items"`
}

// Closed is the won or the lost stage: its sums only.
type Closed struct {
	Stage Stage `json:"stage"`
	Sums
}

// Pipeline is the board (销售管道).
type Pipeline struct {
	Columns []Column `json:"columns"`
	Won     Closed   `json:"won"`
	Lost    Closed   `json:"lost"`
}

type stageSums struct {
	StageID  int64 `db:"stage_id"`
	Count    int   `db:"n"`
	Amount   int64 `db:"amount"`
	Weighted int64 `db:"weighted"`
}

// Pipeline returns each open stage's sums and first cards, and the won and
// lost sums. It never reads every opportunity: the sums are one GROUP BY in
// the database and each column one LIMITed, indexed query.
func (s *Service) Pipeline(ctx context.Context, a *auth.Actor, f PipelineFilter) (*Pipeline, error) {
	if err := a.Require(PermView); err != nil {
		return nil, err
	}
	if f.PerStage == 0 {
		f.PerStage = DefaultPerStage
	}
	if f.PerStage < 1 || f.PerStage > paging.MaxSize {
		return nil, errs.InvalidField("per_stage", "validation.page_size", "max", paging.MaxSize)
	}
	board, err := stages(ctx, s.db, true)
	if err != nil {
		return nil, err
	}
	sums, err := s.sums(ctx, a, f)
	if err != nil {
		return nil, err
	}
	p := &Pipeline{Columns: []Column{}}
	for _, st := range board {
		switch st.Kind {
		case KindWon:
			p.Won = Closed{Stage: st, Sums: sumsOf(sums, st.ID)}
			maskSums(a, &p.Won.Sums)
		case KindLost:
			p.Lost = Closed{Stage: st, Sums: sumsOf(sums, st.ID)}
			maskSums(a, &p.Lost.Sums)
		default:
			col := Column{Stage: st, Sums: sumsOf(sums, st.ID), Items: []Opportunity{}}
			maskSums(a, &col.Sums)
			if col.Count > 0 {
				flt := Filter{StageID: st.ID, OwnerID: f.OwnerID, DepartmentID: f.DepartmentID, Page: 1, PageSize: f.PerStage}
				if col.Items, err = s.store.Cards(ctx, a, flt); err != nil {
					return nil, err
				}
				MaskAll(a, col.Items)
			}
			p.Columns = append(p.Columns, col)
		}
	}
	return p, nil
}

// sumsOf is a stage's sums; a stage with no opportunities shows zeros
// formatted like any other amount ("0.00"), not empty strings.
func sumsOf(m map[int64]Sums, stageID int64) Sums {
	if s, ok := m[stageID]; ok {
		return s
	}
	zero := product.FormatFen(0)
	return Sums{Amount: zero, WeightedAmount: zero}
}

// sums is the per-stage aggregate for the Actor's scope and the filter.
func (s *Service) sums(ctx context.Context, a *auth.Actor, f PipelineFilter) (map[int64]Sums, error) {
	q := build(a, Filter{OwnerID: f.OwnerID, DepartmentID: f.DepartmentID}, false)
	var rows []stageSums
	err := s.db.SelectContext(ctx, &rows, `SELECT o.stage_id, COUNT(*) AS n, COALESCE(SUM(o.amount_fen), 0) AS amount,
		COALESCE(SUM(o.amount_fen * o.probability), 0) AS weighted FROM opportunities o`+q.sql()+" GROUP BY o.stage_id",
		q.args...)
	if err != nil {
		return nil, fmt.Errorf("deal: pipeline sums: %w", err)
	}
	out := map[int64]Sums{}
	for _, r := range rows {
		// Σ amount × probability is in fen-percent: rounded half up to fen.
		w := (r.Weighted + 50) / 100
		out[r.StageID] = Sums{Count: r.Count, AmountFen: r.Amount, Amount: product.FormatFen(r.Amount),
			WeightedAmountFen: w, WeightedAmount: product.FormatFen(w)}
	}
	return out, nil
}

// StageCards pages through one column's cards (the kanban's "more").
func (s *Service) StageCards(ctx context.Context, a *auth.Actor, stageID int64, f PipelineFilter, page, size int) ([]Opportunity, int, error) {
	if err := a.Require(PermView); err != nil {
		return nil, 0, err
	}
	board, err := stages(ctx, s.db, true)
	if err != nil {
		return nil, 0, err
	}
	if _, ok := find(board, stageID); !ok {
		return nil, 0, ErrStageNotFound
	}
	flt := Filter{StageID: stageID, OwnerID: f.OwnerID, DepartmentID: f.DepartmentID, Page: page, PageSize: size}
	if err := validFilter(&flt); err != nil {
		return nil, 0, err
	}
	out, total, err := s.store.List(ctx, a, flt, false)
	MaskAll(a, out)
	return out, total, err
}
