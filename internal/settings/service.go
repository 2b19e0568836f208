package settings

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/deal"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/followup"
	"github.com/dingcrm/crm/internal/i18n"
	"github.com/dingcrm/crm/internal/kv"
	"github.com/dingcrm/crm/internal/option"
	"github.com/dingcrm/crm/internal/store"
)

// versionKey holds the settings' version in kv; versionTTL bounds how long a
// value written out of order (or missed while Redis was down) can mislead.
const (
	versionKey = "settings:version"
	versionTTL = 5 * time.Minute
)

// DefaultTags are the preset tags a new installation offers.
var DefaultTags = []string{"key_account", "repeat_buyer", "price_sensitive", "needs_visit"}

// kinds maps a list to its label prefix in the i18n catalogue
// ("option.<kind>.<code>"), where the built-in defaults' labels live.
var kinds = map[string]string{
	option.Sources: "source", option.Industries: "industry", option.Levels: "level", option.Tags: "tag",
	option.FollowupMethods: "followup_method", option.LostReasons: "lost_reason",
}

// Defaults are the built-in codes of every list (today's fixed codes).
func Defaults() option.Static {
	return option.Static{
		option.Sources: customer.Sources, option.Industries: customer.Industries, option.Levels: customer.Levels,
		option.Tags: DefaultTags, option.FollowupMethods: followup.Methods, option.LostReasons: deal.LostReasons,
	}
}

// Service is 系统设置. Reading needs a signed-in person (or no one, for
// other services through Company); changing needs setting.manage.
type Service struct {
	db       *store.DB
	kv       kv.Store
	shared   bool
	msg      i18n.Catalog
	store    Store
	defaults Company

	mu   sync.Mutex
	snap *snapshot
}

// snapshot is the cached settings at one version.
type snapshot struct {
	version  int64
	company  Company
	logoType string
	options  map[string][]Option
}

// NewService returns the settings service. shared says kv is shared by every
// instance (Redis): the version is then checked there, else in the
// database. lang and loc are the defaults until an admin changes them.
func NewService(db *store.DB, kvs kv.Store, shared bool, msg i18n.Catalog, lang string, loc *time.Location) *Service {
	if lang != "en" {
		lang = "zh-CN"
	}
	tz := "Asia/Shanghai"
	if loc != nil && loc.String() != "Local" && loc.String() != "" {
		tz = loc.String()
	}
	return &Service{db: db, kv: kvs, shared: shared, msg: msg, defaults: Company{
		Lang: lang, Timezone: tz, Currency: "CNY", CurrencySymbol: "¥", CurrencyPosition: "before",
		WorkingDays: []int{1, 2, 3, 4, 5}, QuietStart: "22:00", QuietEnd: "08:00",
	}}
}

// currentVersion is the version every instance agrees on: kv's when shared
// (seeded from the database when missing), else the database's.
func (s *Service) currentVersion(ctx context.Context) (int64, error) {
	if s.shared {
		if v, ok, err := s.kv.Get(ctx, versionKey); err == nil && ok {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				return n, nil
			}
		}
	}
	v, err := s.store.version(ctx, s.db)
	if err != nil {
		return 0, err
	}
	if s.shared {
		s.kv.SetNX(ctx, versionKey, strconv.FormatInt(v, 10), versionTTL) // best effort
	}
	return v, nil
}

// load returns the cached settings, reloading them when another change
// (here or on another instance) moved the version on.
func (s *Service) load(ctx context.Context) (*snapshot, error) {
	v, err := s.currentVersion(ctx)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	snap := s.snap
	s.mu.Unlock()
	if snap != nil && snap.version == v {
		return snap, nil
	}
	c, logoType, err := s.store.company(ctx, s.db, s.db.Dialect, s.defaults, false)
	if err != nil {
		return nil, err
	}
	opts, err := s.store.options(ctx, s.db)
	if err != nil {
		return nil, err
	}
	for _, l := range option.Lists {
		if len(opts[l]) == 0 {
			opts[l] = s.defaultList(l)
		}
	}
	// The version the cache is filed under is the one read before loading:
	// a change committed in between moves it on and the next call reloads.
	snap = &snapshot{version: v, company: c, logoType: logoType, options: opts}
	s.mu.Lock()
	s.snap = snap
	s.mu.Unlock()
	return snap, nil
}

// changed publishes a committed change: this instance drops its cache and,
// when shared, kv gets the new version so the others reload too.
func (s *Service) changed(ctx context.Context) {
	s.mu.Lock()
	s.snap = nil
	s.mu.Unlock()
	if !s.shared {
		return
	}
	v, err := s.store.version(ctx, s.db)
	if err != nil || s.kv.Set(ctx, versionKey, strconv.FormatInt(v, 10), versionTTL) != nil {
		s.kv.Del(ctx, versionKey) // the next read seeds it from the database
	}
}

func (s *Service) defaultList(list string) []Option {
	codes := Defaults()[list]
	out := make([]Option, len(codes))
	for i, c := range codes {
		key := "option." + kinds[list] + "." + c
		out[i] = Option{Code: c, LabelZh: s.msg.T("zh-CN", key, nil), LabelEn: s.msg.T("en", key, nil), Sort: i + 1, Active: true}
	}
	return out
}

// Company returns the company settings (for other services; no permission).
func (s *Service) Company(ctx context.Context) (Company, error) {
	snap, err := s.load(ctx)
	if err != nil {
		return Company{}, err
	}
	c := snap.company
	c.WorkingDays = slices.Clone(c.WorkingDays)
	return c, nil
}

// Get is the settings as any signed-in person may read them.
func (s *Service) Get(ctx context.Context, a *auth.Actor) (Company, error) {
	if a == nil {
		return Company{}, errs.ErrUnauthorized
	}
	return s.Company(ctx)
}

// Update changes the company settings.
func (s *Service) Update(ctx context.Context, a *auth.Actor, in Input) (Company, error) {
	if err := a.Require(permManage); err != nil {
		return Company{}, err
	}
	err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		before, _, err := s.store.company(ctx, tx, s.db.Dialect, s.defaults, true)
		if err != nil {
			return err
		}
		after := before
		after.WorkingDays = slices.Clone(before.WorkingDays)
		if err := apply(&after, in); err != nil {
			return err
		}
		changes := audit.Diff(before.fields(), after.fields())
		if len(changes) == 0 {
			return nil
		}
		if err := s.store.saveCompany(ctx, tx, after); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.By(a), audit.Entry{Action: audit.ActUpdate, Entity: "setting",
			EntityID: 1, EntityName: "company", Changes: changes})
	})
	if err != nil {
		return Company{}, err
	}
	s.changed(ctx)
	return s.Company(ctx)
}

// Logo returns the logo's content type and bytes.
func (s *Service) Logo(ctx context.Context) (string, []byte, error) {
	ctype, data, err := s.store.logo(ctx, s.db)
	if err != nil {
		return "", nil, err
	}
	if ctype == "" {
		return "", nil, ErrNoLogo
	}
	return ctype, data, nil
}

// SetLogo replaces the logo with an image of at most 512 KB (PNG, JPEG or
// WebP, judged by its content, not its name); data == nil removes it.
func (s *Service) SetLogo(ctx context.Context, a *auth.Actor, data []byte) (Company, error) {
	if err := a.Require(permManage); err != nil {
		return Company{}, err
	}
	ctype := ""
	if data != nil {
		if len(data) > MaxLogoBytes {
			return Company{}, errs.InvalidField("logo", "setting.logo_too_large", "max_kb", MaxLogoBytes>>10)
		}
		ctype = http.DetectContentType(data)
		if !slices.Contains(LogoTypes, ctype) {
			return Company{}, errs.InvalidField("logo", "setting.logo_type")
		}
	}
	err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		old, _, err := s.store.logo(ctx, tx)
		if err != nil {
			return err
		}
		if err := s.store.setLogo(ctx, tx, ctype, data); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.By(a), audit.Entry{Action: audit.ActUpdate, Entity: "setting",
			EntityID: 1, EntityName: "company", Changes: map[string]audit.Change{
				"logo": {Old: logoNote(old, nil), New: logoNote(ctype, data)}}})
	})
	if err != nil {
		return Company{}, err
	}
	s.changed(ctx)
	return s.Company(ctx)
}

func logoNote(ctype string, data []byte) any {
	if ctype == "" {
		return nil
	}
	if data == nil {
		return ctype
	}
	return fmt.Sprintf("%s, %d bytes", ctype, len(data))
}

// OptionSet implements option.Source for customer, follow-up and
// opportunity validation.
func (s *Service) OptionSet(ctx context.Context, list string) (option.Set, error) {
	snap, err := s.load(ctx)
	if err != nil {
		return option.Set{}, err
	}
	var set option.Set
	for _, o := range snap.options[list] {
		set.All = append(set.All, o.Code)
		if o.Active {
			set.Active = append(set.Active, o.Code)
		}
	}
	return set, nil
}

// Options returns one list, retired options included, in order.
func (s *Service) Options(ctx context.Context, list string) ([]Option, error) {
	if _, ok := kinds[list]; !ok {
		return nil, ErrUnknownList
	}
	snap, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	return slices.Clone(snap.options[list]), nil
}

// AllOptions returns every list.
func (s *Service) AllOptions(ctx context.Context) (map[string][]Option, error) {
	snap, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]Option, len(snap.options))
	for l, o := range snap.options {
		out[l] = slices.Clone(o)
	}
	return out, nil
}

// Label is code's label in lang (the code itself when the list lacks it).
func (s *Service) Label(ctx context.Context, list, code, lang string) string {
	opts, err := s.Options(ctx, list)
	if err != nil {
		return code
	}
	for _, o := range opts {
		if o.Code == code {
			return o.Label(lang)
		}
	}
	return code
}

// ReplaceList replaces a whole list: add, rename, reorder and retire in one
// edit. Options may not be removed (records may carry their codes).
func (s *Service) ReplaceList(ctx context.Context, a *auth.Actor, list string, in ListInput) ([]Option, error) {
	return s.editList(ctx, a, list, func(before []Option, v *errs.Invalid) []Option {
		if in.Items == nil {
			v.Add("items", "validation.required")
			return nil
		}
		after := make([]Option, len(*in.Items))
		for i, it := range *in.Items {
			o := Option{}
			if it.Code != nil { // an existing option keeps its state unless told
				for _, b := range before {
					if b.Code == *it.Code {
						o = b
					}
				}
			}
			create := o.Code == ""
			applyOption(v, fmt.Sprintf("items.%d.", i), &o, it, create)
			after[i] = o
		}
		return after
	})
}

// AddOption appends one option to a list.
func (s *Service) AddOption(ctx context.Context, a *auth.Actor, list string, in OptionInput) ([]Option, error) {
	return s.editList(ctx, a, list, func(before []Option, v *errs.Invalid) []Option {
		var o Option
		applyOption(v, "", &o, in, true)
		return append(slices.Clone(before), o)
	})
}

// UpdateOption renames, retires or reactivates one option (its code stays).
func (s *Service) UpdateOption(ctx context.Context, a *auth.Actor, list, code string, in OptionInput) ([]Option, error) {
	var notFound bool
	out, err := s.editList(ctx, a, list, func(before []Option, v *errs.Invalid) []Option {
		after := slices.Clone(before)
		i := slices.IndexFunc(after, func(o Option) bool { return o.Code == code })
		if i < 0 {
			notFound = true
			return nil
		}
		if in.Code != nil && *in.Code != code {
			v.Add("code", "setting.code_fixed")
		}
		in.Code = nil
		applyOption(v, "", &after[i], in, false)
		return after
	})
	if notFound {
		return nil, ErrOptionNotFound
	}
	return out, err
}

// editList runs edit on the current list inside a transaction, validates
// the result, writes it, bumps the version and audits the difference.
func (s *Service) editList(ctx context.Context, a *auth.Actor, list string, edit func([]Option, *errs.Invalid) []Option) ([]Option, error) {
	if err := a.Require(permManage); err != nil {
		return nil, err
	}
	if _, ok := kinds[list]; !ok {
		return nil, ErrUnknownList
	}
	errNotFound := errors.New("not found")
	err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		// Lock the settings row: list edits are serialized with each other
		// and with settings changes.
		if _, _, err := s.store.company(ctx, tx, s.db.Dialect, s.defaults, true); err != nil {
			return err
		}
		all, err := s.store.options(ctx, tx)
		if err != nil {
			return err
		}
		before := all[list]
		if len(before) == 0 {
			before = s.defaultList(list)
		}
		var v errs.Invalid
		after := edit(before, &v)
		if after == nil && v.Err() == nil {
			return errNotFound
		}
		if v.Err() == nil {
			checkList(&v, before, after)
		}
		if err := v.Err(); err != nil {
			return err
		}
		changes := audit.Diff(listFields(before), listFields(after))
		if len(changes) == 0 {
			return nil
		}
		if err := s.store.replaceList(ctx, tx, list, after); err != nil {
			return err
		}
		if err := s.store.bump(ctx, tx); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.By(a), audit.Entry{Action: audit.ActUpdate, Entity: "setting_option",
			EntityName: list, Changes: changes})
	})
	if errors.Is(err, errNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	s.changed(ctx)
	return s.Options(ctx, list)
}

// listFields is the audited form of a list: each code with its labels,
// position and state.
func listFields(opts []Option) map[string]any {
	out := make(map[string]any, len(opts))
	for i, o := range opts {
		state := ""
		if !o.Active {
			state = " (inactive)"
		}
		out[o.Code] = fmt.Sprintf("%d. %s / %s%s", i+1, o.LabelZh, o.LabelEn, state)
	}
	return out
}
