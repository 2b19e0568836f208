package deal

import (
	"context"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/store"
)

// The kinds of stage: any number of open ones, exactly one won and one lost.
const (
	KindOpen = "open"
	KindWon  = "won"
	KindLost = "lost"
)

// Stage is one column of the company's pipeline (销售阶段).
type Stage struct {
	ID          int64  `json:"id" db:"id"`
	Code        string `json:"code" db:"code"`
	Name        string `json:"name" db:"name"`
	Probability int    `json:"probability" db:"probability"`
	SortOrder   int    `json:"sort_order" db:"sort_order"`
	Kind        string `json:"kind" db:"kind"`
	Active      bool   `json:"-" db:"active"`
}

// defaultNames are the seeded stages' names (the migration inserts them).
// While a seeded stage keeps its name, people see it in their own language
// (i18n key option.stage.<code>); once a company renames it, as typed.
var defaultNames = map[string]string{
	"initial": "初步接洽", "needs": "需求确认", "proposal": "方案报价", "negotiation": "谈判审核",
	"won": "赢单", "lost": "输单",
}

// IsDefaultName reports whether a stage with this code still has its
// seeded name, so its label should be localized.
func IsDefaultName(code, name string) bool { return code != "" && defaultNames[code] == name }

// DefaultName is the seeded (zh-CN) name of a default stage code.
func DefaultName(code string) (string, bool) { n, ok := defaultNames[code]; return n, ok }

const stageCols = "SELECT id, code, name, probability, sort_order, kind, active FROM opportunity_stages"

// stages reads the active stages in board order (or all, for checks that
// must see deactivated ones too).
func stages(ctx context.Context, x sqlx.QueryerContext, activeOnly bool) ([]Stage, error) {
	q := stageCols
	if activeOnly {
		q += " WHERE active = 1"
	}
	out := []Stage{}
	if err := sqlx.SelectContext(ctx, x, &out, q+" ORDER BY sort_order, id"); err != nil {
		return nil, fmt.Errorf("deal: stages: %w", err)
	}
	return out, nil
}

// stagesInUse returns the stages some opportunity (deleted ones included:
// they can be restored) sits in.
func stagesInUse(ctx context.Context, x sqlx.QueryerContext) (map[int64]bool, error) {
	var ids []int64
	if err := sqlx.SelectContext(ctx, x, &ids, "SELECT DISTINCT stage_id FROM opportunities"); err != nil {
		return nil, fmt.Errorf("deal: stages in use: %w", err)
	}
	out := map[int64]bool{}
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

// writeStages saves the new board: existing stages updated in place, new
// ones inserted, removed ones deactivated (history keeps naming them).
func writeStages(ctx context.Context, tx *sqlx.Tx, board []Stage, removed []int64) error {
	for i := range board {
		st := &board[i]
		if st.ID > 0 {
			_, err := tx.ExecContext(ctx, `UPDATE opportunity_stages SET name = ?, probability = ?, sort_order = ?,
				kind = ? WHERE id = ?`, st.Name, st.Probability, st.SortOrder, st.Kind, st.ID)
			if err != nil {
				return fmt.Errorf("deal: update stage %d: %w", st.ID, err)
			}
			continue
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO opportunity_stages (code, name, probability, sort_order, kind, active)
			VALUES (?, ?, ?, ?, ?, 1)`, st.Code, st.Name, st.Probability, st.SortOrder, st.Kind)
		if store.IsUniqueViolation(err) {
			return errCodeTaken(i)
		}
		if err != nil {
			return fmt.Errorf("deal: insert stage: %w", err)
		}
		if st.ID, err = res.LastInsertId(); err != nil {
			return err
		}
	}
	if len(removed) == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, "UPDATE opportunity_stages SET active = 0 WHERE id IN ("+store.Placeholders(len(removed))+")",
		store.Int64Args(removed)...)
	if err != nil {
		return fmt.Errorf("deal: deactivate stages: %w", err)
	}
	return nil
}

// describe is the board in one line, for the operation log.
func describe(board []Stage) string {
	parts := make([]string, len(board))
	for i, st := range board {
		parts[i] = fmt.Sprintf("%s %d%%", st.Name, st.Probability)
	}
	return strings.Join(parts, " → ")
}
