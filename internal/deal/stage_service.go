package deal

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/product"
)

// Limits of a board.
const (
	maxStages    = 20
	maxStageName = 20
)

var codePattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

// StageInput is one stage of a board being saved. An existing stage is
// named by id (its code never changes; absent fields keep their value); a
// new one has no id and may bring a code.
type StageInput struct {
	ID          *int64  `json:"id"`
	Code        *string `json:"code"`
	Name        *string `json:"name"`
	Probability *int    `json:"probability"`
	Kind        *string `json:"kind"`
}

// StagesInput is the whole board in order (PUT replaces the list).
type StagesInput struct {
	Stages []StageInput `json:"stages"`
}

func errCodeTaken(i int) error {
	return errs.InvalidField(fmt.Sprintf("stages[%d].code", i), "deal.stage_code_taken")
}

// Stages is the company's board, in order; anyone signed in may read it.
func (s *Service) Stages(ctx context.Context, a *auth.Actor) ([]Stage, error) {
	if a == nil {
		return nil, errs.ErrUnauthorized
	}
	return stages(ctx, s.db, true)
}

// ReplaceStages saves a new board (opportunity.manage). A stage in use may
// be neither removed nor change its kind (409): its opportunities would
// lose their column or their status.
func (s *Service) ReplaceStages(ctx context.Context, a *auth.Actor, in StagesInput) ([]Stage, error) {
	if err := a.Require(PermManage); err != nil {
		return nil, err
	}
	err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		all, err := stages(ctx, tx, false)
		if err != nil {
			return err
		}
		board, err := buildBoard(all, in.Stages)
		if err != nil {
			return err
		}
		removed, err := checkInUse(ctx, tx, all, board)
		if err != nil {
			return err
		}
		if err := writeStages(ctx, tx, board, removed); err != nil {
			return err
		}
		old, _ := activeOf(all)
		return audit.Record(ctx, tx, audit.By(a), audit.Entry{Action: audit.ActUpdate, Entity: "opportunity_stage",
			EntityName: "销售阶段", Changes: audit.Diff(map[string]any{"stages": describe(old)},
				map[string]any{"stages": describe(board)})})
	})
	if err != nil {
		return nil, err
	}
	return stages(ctx, s.db, true)
}

func activeOf(all []Stage) ([]Stage, map[int64]Stage) {
	var list []Stage
	byID := map[int64]Stage{}
	for _, st := range all {
		if st.Active {
			list = append(list, st)
			byID[st.ID] = st
		}
	}
	return list, byID
}

// buildBoard validates the submitted list against the current stages and
// returns the board to save, every problem reported at once.
func buildBoard(all []Stage, in []StageInput) ([]Stage, error) {
	var v errs.Invalid
	if len(in) < 3 || len(in) > maxStages {
		v.Add("stages", "deal.stage_count", "max", maxStages)
		return nil, v.Err()
	}
	_, current := activeOf(all)
	codes := map[string]bool{}
	for _, st := range all {
		codes[st.Code] = true
	}
	seenID, seenName := map[int64]bool{}, map[string]bool{}
	kinds := map[string]int{}
	board := make([]Stage, len(in))
	for i, si := range in {
		st := stageFrom(&v, i, si, current, codes, seenID)
		st.SortOrder = i + 1
		if seenName[st.Name] && st.Name != "" {
			v.Add(fmt.Sprintf("stages[%d].name", i), "validation.duplicate")
		}
		seenName[st.Name] = true
		kinds[st.Kind]++
		board[i] = st
	}
	if kinds[KindWon] != 1 || kinds[KindLost] != 1 || kinds[KindOpen] < 1 {
		v.Add("stages", "deal.stage_kinds")
	}
	return board, v.Err()
}

// stageFrom checks one submitted stage.
func stageFrom(v *errs.Invalid, i int, si StageInput, current map[int64]Stage, codes map[string]bool, seenID map[int64]bool) Stage {
	field := func(name string) string { return fmt.Sprintf("stages[%d].%s", i, name) }
	var st Stage
	if si.ID != nil {
		cur, ok := current[*si.ID]
		switch {
		case !ok:
			v.Add(field("id"), "deal.stage_unknown")
		case seenID[*si.ID]:
			v.Add(field("id"), "validation.duplicate")
		}
		seenID[*si.ID] = true
		st = cur
	} else {
		st.Code = newCode(v, field("code"), si.Code, codes)
		if si.Kind == nil {
			v.Add(field("kind"), "validation.required")
		}
		if si.Probability == nil && (si.Kind == nil || *si.Kind == KindOpen) {
			v.Add(field("probability"), "validation.required")
		}
		if si.Name == nil {
			si.Name = new(string)
		}
	}
	if si.Name != nil {
		st.Name = product.Text(v, field("name"), *si.Name, maxStageName, true)
	}
	if si.Kind != nil {
		if k := *si.Kind; k != KindOpen && k != KindWon && k != KindLost {
			v.Add(field("kind"), "validation.not_an_option")
		}
		st.Kind = *si.Kind
	}
	if si.Probability != nil {
		if p := *si.Probability; p < 0 || p > 100 {
			v.Add(field("probability"), "deal.probability")
		}
		st.Probability = *si.Probability
	}
	// Won is certain and lost is nothing, whatever was typed.
	switch st.Kind {
	case KindWon:
		st.Probability = 100
	case KindLost:
		st.Probability = 0
	}
	return st
}

// newCode checks or makes the code of a new stage.
func newCode(v *errs.Invalid, field string, code *string, codes map[string]bool) string {
	if code == nil || *code == "" {
		b := make([]byte, 4)
		rand.Read(b)
		c := "stage_" + hex.EncodeToString(b)
		codes[c] = true
		return c
	}
	switch {
	case !codePattern.MatchString(*code):
		v.Add(field, "deal.stage_code")
	case codes[*code]:
		v.Add(field, "deal.stage_code_taken")
	}
	codes[*code] = true
	return *code
}

// checkInUse refuses to drop or re-kind a stage that opportunities sit in,
// and returns the stages to deactivate.
func checkInUse(ctx context.Context, tx *sqlx.Tx, all, board []Stage) ([]int64, error) {
	used, err := stagesInUse(ctx, tx)
	if err != nil {
		return nil, err
	}
	kept := map[int64]Stage{}
	for _, st := range board {
		if st.ID > 0 {
			kept[st.ID] = st
		}
	}
	var removed []int64
	for _, st := range all {
		if !st.Active {
			continue
		}
		nu, ok := kept[st.ID]
		if used[st.ID] && (!ok || nu.Kind != st.Kind) {
			return nil, &errs.Error{Kind: errs.KindConflict, Key: "deal.stage_in_use", Args: map[string]any{"stage": st.Name}}
		}
		if !ok {
			removed = append(removed, st.ID)
		}
	}
	return removed, nil
}
