package settings

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/store"
)

// Store is the company_settings row and the setting_options table.
type Store struct{}

type companyRow struct {
	Data     string `db:"data"`
	Version  int64  `db:"version"`
	LogoType string `db:"logo_type"`
}

// version is the change counter.
func (Store) version(ctx context.Context, x sqlx.QueryerContext) (int64, error) {
	var v int64
	if err := sqlx.GetContext(ctx, x, &v, "SELECT version FROM company_settings WHERE id = 1"); err != nil {
		return 0, fmt.Errorf("settings: read version: %w", err)
	}
	return v, nil
}

// company reads the stored settings over defaults; forUpdate locks the row
// on MySQL (SQLite's writers are serialized by the immediate transaction).
func (Store) company(ctx context.Context, x sqlx.QueryerContext, d store.Dialect, defaults Company, forUpdate bool) (Company, string, error) {
	q := "SELECT data, version, logo_type FROM company_settings WHERE id = 1"
	if forUpdate && d == store.MySQL {
		q += " FOR UPDATE"
	}
	var r companyRow
	if err := sqlx.GetContext(ctx, x, &r, q); err != nil {
		return Company{}, "", fmt.Errorf("settings: read company: %w", err)
	}
	c := defaults
	c.WorkingDays = append([]int(nil), defaults.WorkingDays...)
	if err := json.Unmarshal([]byte(r.Data), &c); err != nil {
		return Company{}, "", fmt.Errorf("settings: decode company: %w", err)
	}
	c.Version = r.Version
	c.LogoURL = ""
	if r.LogoType != "" {
		c.LogoURL = fmt.Sprintf("/api/v1/settings/logo?v=%d", r.Version)
	}
	return c, r.LogoType, nil
}

// saveCompany writes the settings and bumps the version.
func (Store) saveCompany(ctx context.Context, x sqlx.ExecerContext, c Company) error {
	c.LogoURL, c.Version = "", 0
	b, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("settings: encode company: %w", err)
	}
	_, err = x.ExecContext(ctx, "UPDATE company_settings SET data = ?, version = version + 1, updated_at = ? WHERE id = 1",
		string(b), store.Now())
	if err != nil {
		return fmt.Errorf("settings: save company: %w", err)
	}
	return nil
}

// bump counts a change made elsewhere (option lists).
func (Store) bump(ctx context.Context, x sqlx.ExecerContext) error {
	if _, err := x.ExecContext(ctx, "UPDATE company_settings SET version = version + 1, updated_at = ? WHERE id = 1",
		store.Now()); err != nil {
		return fmt.Errorf("settings: bump version: %w", err)
	}
	return nil
}

// logo reads the logo's type and bytes.
func (Store) logo(ctx context.Context, x sqlx.QueryerContext) (string, []byte, error) {
	var r struct {
		Type string `db:"logo_type"`
		Data []byte `db:"logo"`
	}
	if err := sqlx.GetContext(ctx, x, &r, "SELECT logo_type, logo FROM company_settings WHERE id = 1"); err != nil {
		return "", nil, fmt.Errorf("settings: read logo: %w", err)
	}
	return r.Type, r.Data, nil
}

// setLogo replaces (or with an empty type removes) the logo.
func (Store) setLogo(ctx context.Context, x sqlx.ExecerContext, ctype string, data []byte) error {
	var arg any = data
	if ctype == "" {
		arg = nil
	}
	_, err := x.ExecContext(ctx, "UPDATE company_settings SET logo_type = ?, logo = ?, version = version + 1, updated_at = ? WHERE id = 1",
		ctype, arg, store.Now())
	if err != nil {
		return fmt.Errorf("settings: save logo: %w", err)
	}
	return nil
}

type optionRow struct {
	List string `db:"list"`
	Option
}

// options reads every stored list; lists absent from the map have no rows
// (their defaults apply).
func (Store) options(ctx context.Context, x sqlx.QueryerContext) (map[string][]Option, error) {
	var rows []optionRow
	if err := sqlx.SelectContext(ctx, x, &rows, `SELECT list, code, label_zh, label_en, sort, active
		FROM setting_options ORDER BY list, sort, id`); err != nil {
		return nil, fmt.Errorf("settings: read options: %w", err)
	}
	out := map[string][]Option{}
	for _, r := range rows {
		out[r.List] = append(out[r.List], r.Option)
	}
	return out, nil
}

// replaceList writes list as items, in their order.
func (Store) replaceList(ctx context.Context, x sqlx.ExecerContext, list string, items []Option) error {
	if _, err := x.ExecContext(ctx, "DELETE FROM setting_options WHERE list = ?", list); err != nil {
		return fmt.Errorf("settings: clear list %s: %w", list, err)
	}
	for i, o := range items {
		if _, err := x.ExecContext(ctx, `INSERT INTO setting_options (list, code, label_zh, label_en, sort, active)
			VALUES (?, ?, ?, ?, ?, ?)`, list, o.Code, o.LabelZh, o.LabelEn, i+1, o.Active); err != nil {
			return fmt.Errorf("settings: write option %s/%s: %w", list, o.Code, err)
		}
	}
	return nil
}
