// Package excel is Excel in and out: the customer import (template, dry
// run, batched writes, background jobs, a file of the rejected rows) and the
// list exports, streamed in constant memory with localized headers.
package excel

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/dingcrm/crm/internal/contact"
	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/i18n"
	"github.com/dingcrm/crm/internal/option"
	"github.com/dingcrm/crm/internal/store"
)

// Limits bound what one import or export may cost.
type Limits struct {
	// MaxFileBytes is the largest upload (the handler answers 413 above it).
	MaxFileBytes int64
	// MaxUnzippedBytes caps the declared uncompressed size of everything in
	// the workbook, so a small file that inflates to gigabytes (a zip bomb)
	// is refused before anything is inflated.
	MaxUnzippedBytes int64
	// MaxRows is the most data rows one file may hold.
	MaxRows int
	// BackgroundRows: a file with more data rows runs as a background job.
	BackgroundRows int
	// BatchRows is how many customers one transaction writes.
	BatchRows int
	// MaxExportRows is the most rows one export writes.
	MaxExportRows int
}

// DefaultLimits are the production limits. 100 MB unzipped is three times
// what 50,000 full rows need, far below what a zip bomb inflates to.
var DefaultLimits = Limits{
	MaxFileBytes:     20 << 20,
	MaxUnzippedBytes: 100 << 20,
	MaxRows:          50000,
	BackgroundRows:   2000,
	BatchRows:        500,
	MaxExportRows:    100000,
}

// Service is what handlers, jobs and the CLI call for Excel work.
type Service struct {
	db        *store.DB
	customers *customer.Store
	contacts  *contact.Store
	msg       i18n.Catalog
	loc       *time.Location
	log       *slog.Logger
	limits    Limits
	// slots bounds the background imports one process runs at once; the
	// rest wait their turn (their job reads "running" with nothing processed).
	slots chan struct{}
	// labels names the codes of the company's editable option lists.
	labels OptionLabeler
	// indexKick, when set, asks the background indexer to write the search
	// index of the customers an import queued; without one the import
	// writes it itself before it returns (customer.Store.InsertBatch).
	indexKick func()
}

// OptionLabeler is the company's editable option lists (settings): the
// codes an import accepts and their names in each language; the i18n
// catalogue names the fixed ones.
type OptionLabeler interface {
	option.Source
	Label(ctx context.Context, list, code, lang string) string
}

// SetOptionLabels makes exports name options from the company's lists.
func (s *Service) SetOptionLabels(l OptionLabeler) { s.labels = l }

// editableLists maps an option kind to its editable list.
var editableLists = map[string]string{"industry": "industries", "source": "sources", "level": "levels",
	"followup_method": "followup_methods", "lost_reason": "lost_reasons"}

// NewService wires the service: the database, the message catalogue (for
// headers, labels and row problems), the company time zone (for times in
// exports) and the log (for background imports, which have no request to
// answer).
func NewService(db *store.DB, msg i18n.Catalog, loc *time.Location, log *slog.Logger) *Service {
	return &Service{db: db, customers: customer.NewStore(db), contacts: contact.NewStore(db), msg: msg, loc: loc,
		log: log, limits: DefaultLimits, slots: make(chan struct{}, 2)}
}

// SetIndexer hands the search indexing of imported customers to a
// background indexer (customer.Indexer.Kick), so an import returns as soon
// as its rows are written; they are searchable at once either way.
func (s *Service) SetIndexer(kick func()) { s.indexKick = kick }

// WithLimits returns a copy of s with other limits (tests and benchmarks);
// a zero field keeps its default.
func (s *Service) WithLimits(l Limits) *Service {
	d := DefaultLimits
	l = Limits{MaxFileBytes: cmp.Or(l.MaxFileBytes, d.MaxFileBytes),
		MaxUnzippedBytes: cmp.Or(l.MaxUnzippedBytes, d.MaxUnzippedBytes), MaxRows: cmp.Or(l.MaxRows, d.MaxRows),
		BackgroundRows: cmp.Or(l.BackgroundRows, d.BackgroundRows), BatchRows: cmp.Or(l.BatchRows, d.BatchRows),
		MaxExportRows: cmp.Or(l.MaxExportRows, d.MaxExportRows)}
	c := *s
	c.limits = l
	return &c
}

// Limits reports the limits in force (the handler sizes its body limit by them).
func (s *Service) Limits() Limits { return s.limits }

// Locale renders what a person reads: messages and labels in their
// language, times in the company time zone.
type Locale struct {
	Lang   string
	msg    i18n.Catalog
	loc    *time.Location
	labels OptionLabeler
}

// Locale returns the Locale for lang ("zh-CN" or "en"; anything else is zh-CN).
func (s *Service) Locale(lang string) Locale {
	matched := i18n.Match(lang)
	if matched == "" {
		matched = i18n.Languages[0]
	}
	return Locale{Lang: matched, msg: s.msg, loc: s.loc, labels: s.labels}
}

// T renders a message; args are name, value pairs.
func (l Locale) T(key string, args ...any) string {
	var m map[string]any
	if len(args) > 0 {
		m = map[string]any{}
		for i := 0; i+1 < len(args); i += 2 {
			m[fmt.Sprint(args[i])] = args[i+1]
		}
	}
	return l.msg.T(l.Lang, key, m)
}

// Option is an option list value's label ("option.level.a" → "A 重点客户").
func (l Locale) Option(kind, code string) string {
	if code == "" {
		return ""
	}
	if list, ok := editableLists[kind]; ok && l.labels != nil {
		// The lists are cached in memory; the lookup needs no request.
		return l.labels.Label(context.Background(), list, code, l.Lang)
	}
	return l.T("option." + kind + "." + code)
}

// Time formats a time in the company time zone; "" for none.
func (l Locale) Time(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.In(l.loc).Format("2006-01-02 15:04")
}

// List joins values the way a person writes a list in their language.
func (l Locale) List(values []string) string {
	if l.Lang == "en" {
		return strings.Join(values, ", ")
	}
	return strings.Join(values, "、")
}
