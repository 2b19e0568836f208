// Package reportview is the shape every report takes once computed: what the
// JSON API returns, what the web app draws and what the Excel and PDF
// exports render. Keeping one shape means a new report needs no new
// rendering code anywhere, and the three outputs cannot disagree.
package reportview

// Format says how a number is shown: money is integer fen, percent a ratio
// (0.125 = 12.5%), int a count, text and date as given.
type Format string

// The formats a value or column may carry.
const (
	Text    Format = "text"
	Int     Format = "int"
	Money   Format = "money"
	Percent Format = "percent"
	Date    Format = "date"
	Number  Format = "number" // a plain decimal (e.g. an RFM score)
)

// Report is one computed report, already localized for the reader.
type Report struct {
	Type       string      `json:"type"`       // sales, customers, performance, funnel, rfm
	Title      string      `json:"title"`      // localized, e.g. 销售报表
	Conditions []Condition `json:"conditions"` // what it was computed for, written at the top of exports
	Summary    []Metric    `json:"summary"`    // headline figures (KPI cards)
	Charts     []Chart     `json:"charts"`
	Tables     []Table     `json:"tables"`
	// GeneratedAt is RFC 3339 in the company's time zone.
	GeneratedAt string `json:"generated_at"`
}

// Condition is one applied condition as the reader would say it.
type Condition struct {
	Key   string `json:"key"`   // from, to, group_by, user_id, department_id, customer_id, product_id, …
	Label string `json:"label"` // localized name, e.g. 时间范围
	Value string `json:"value"` // localized value, e.g. 2026-11-01 ~ 2026-11-30 or a person's name
}

// Metric is one headline figure, optionally with its change against the
// previous period (period over period) and the same period a year before.
type Metric struct {
	Key    string   `json:"key"`
	Label  string   `json:"label"`
	Value  float64  `json:"value"` // money in fen, ratios as 0..1
	Format Format   `json:"format"`
	PoP    *float64 `json:"pop,omitempty"` // relative change vs the previous period; nil when undefined
	YoY    *float64 `json:"yoy,omitempty"`
	Drill  *Drill   `json:"drill,omitempty"`
}

// Chart is drawn by ECharts in the browser and by the PDF renderer on the
// server. Kind: bar, line, pie, funnel, or barline (first series bars, the
// rest lines). Values line up with Categories.
type Chart struct {
	ID         string   `json:"id"`
	Kind       string   `json:"kind"`
	Title      string   `json:"title"`
	Categories []string `json:"categories"`
	Series     []Series `json:"series"`
	// Drill, when set, has one entry per category: where clicking it leads.
	Drill []*Drill `json:"drill,omitempty"`
}

// Series is one named run of values.
type Series struct {
	Name   string    `json:"name"`
	Format Format    `json:"format"`
	Values []float64 `json:"values"`
}

// Table is one table; exports put each in its own sheet.
type Table struct {
	ID      string   `json:"id"`
	Title   string   `json:"title"`
	Columns []Column `json:"columns"`
	Rows    []Row    `json:"rows"`
	// Totals has a value for the columns that add up (others absent).
	Totals map[string]any `json:"totals,omitempty"`
}

// Column describes one column of a table.
type Column struct {
	Key    string `json:"key"`
	Label  string `json:"label"`
	Format Format `json:"format"`
}

// Row holds a value per column key (numbers as float64 or int64, strings),
// and where clicking it leads.
type Row struct {
	Cells map[string]any `json:"cells"`
	Drill *Drill         `json:"drill,omitempty"`
}

// Drill names the list page that shows the records behind a figure and the
// filters that select exactly them, e.g. {Page: "sales", Query: {"from":
// "2026-11-01", "to": "2026-11-30", "owner_id": "7"}}. Pages: sales,
// customers, opportunities, followups. The web app opens #/<page>?<query>.
type Drill struct {
	Page  string            `json:"page"`
	Query map[string]string `json:"query"`
}
