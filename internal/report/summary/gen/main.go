// Command gen writes the summary triggers of migration 00014 for both
// dialects (go run ./internal/report/summary/gen > …): the triggers are
// mechanical, and generating them keeps MySQL and SQLite saying the same.
package main

import (
	"fmt"
	"os"
	"strings"
)

type dialect struct {
	name string
}

func (d dialect) mysql() bool { return d.name == "mysql" }

// localDay is the company-zone date of a UTC datetime expression. While a
// restore has emptied report_zone the offset is taken as 0; the restore
// rebuilds the summaries at its end.
func (d dialect) localDay(x string) string {
	if d.mysql() {
		return "DATE(DATE_ADD(" + x + ", INTERVAL COALESCE((SELECT offset_minutes FROM report_zone WHERE id = 1), 0) MINUTE))"
	}
	return "date(" + x + ", COALESCE((SELECT offset_minutes FROM report_zone WHERE id = 1), 0) || ' minutes')"
}

func (d dialect) month(x string) string {
	if d.mysql() {
		return "DATE_FORMAT(" + x + ", '%Y-%m-01')"
	}
	return "strftime('%Y-%m-01', " + x + ")"
}

func (d dialect) millis(from, to string) string {
	if d.mysql() {
		return "TIMESTAMPDIFF(MICROSECOND, " + from + ", " + to + ") DIV 1000"
	}
	return "CAST(ROUND((julianday(" + to + ") - julianday(" + from + ")) * 86400000) AS INTEGER)"
}

// upsert adds the selected deltas to table's row with the given keys.
func (d dialect) upsert(table string, keys, vals []string, sel string) string {
	cols := append(append([]string{}, keys...), vals...)
	s := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ")\n        " + sel + "\n        "
	var set []string
	for _, v := range vals {
		if d.mysql() {
			set = append(set, table+"."+v+" = "+table+"."+v+" + VALUES("+v+")")
		} else {
			set = append(set, v+" = "+v+" + excluded."+v)
		}
	}
	if d.mysql() {
		return s + "ON DUPLICATE KEY UPDATE " + strings.Join(set, ", ") + ";"
	}
	return s + "ON CONFLICT (" + strings.Join(keys, ", ") + ") DO UPDATE SET " + strings.Join(set, ", ") + ";"
}

func (d dialect) dual() string {
	if d.mysql() {
		return " FROM DUAL"
	}
	return ""
}

// contribution returns the statements adding row r's share (sign "+" or "-").
type contribution func(d dialect, r, sign string) []string

func sales(d dialect, r, sign string) []string {
	live := r + ".deleted_at IS NULL"
	return []string{
		d.upsert("report_sales_day", []string{"day", "owner_id", "department_id"}, []string{"sales", "amount_fen"},
			fmt.Sprintf("SELECT %s.sale_date, %s.owner_id, %s.department_id, %s1, %s%s.amount_fen%s WHERE %s", r, r, r, sign, sign, r, d.dual(), live)),
		d.upsert("report_sales_month", []string{"month", "owner_id", "department_id"}, []string{"sales", "amount_fen"},
			fmt.Sprintf("SELECT %s, %s.owner_id, %s.department_id, %s1, %s%s.amount_fen%s WHERE %s", d.month(r+".sale_date"), r, r, sign, sign, r, d.dual(), live)),
		d.upsert("report_product_day", []string{"day", "product_id", "owner_id", "department_id"}, []string{"line_count", "quantity", "amount_fen"},
			fmt.Sprintf("SELECT %s.sale_date, si.product_id, %s.owner_id, %s.department_id, %sCOUNT(*), %sSUM(si.quantity), %sSUM(si.total_fen)\n        FROM sale_items si WHERE si.sale_id = %s.id AND %s GROUP BY si.product_id", r, r, r, sign, sign, sign, r, live)),
	}
}

func saleItems(d dialect, r, sign string) []string {
	return []string{
		d.upsert("report_product_day", []string{"day", "product_id", "owner_id", "department_id"}, []string{"line_count", "quantity", "amount_fen"},
			fmt.Sprintf("SELECT s.sale_date, %s.product_id, s.owner_id, s.department_id, %s1, %s%s.quantity, %s%s.total_fen\n        FROM sales s WHERE s.id = %s.sale_id AND s.deleted_at IS NULL", r, sign, sign, r, sign, r, r)),
	}
}

var activity = []string{"followups", "new_customers", "won", "lost", "won_amount_fen", "won_cycle_ms"}
var actKeys = []string{"day", "owner_id", "department_id"}

func actSel(d dialect, day, r string, vals map[string]string, where string) string {
	var v []string
	for _, a := range activity {
		if x, ok := vals[a]; ok {
			v = append(v, x)
		} else {
			v = append(v, "0")
		}
	}
	return fmt.Sprintf("SELECT %s, %s.owner_id, %s.department_id, %s%s WHERE %s", day, r, r, strings.Join(v, ", "), d.dual(), where)
}

// activityBoth files an activity share under its day and under its month.
func activityBoth(d dialect, at, r string, vals map[string]string, where string) []string {
	day := d.localDay(at)
	return []string{
		d.upsert("report_activity_day", actKeys, activity, actSel(d, day, r, vals, where)),
		d.upsert("report_activity_month", monthKeys, activity, actSel(d, d.month(day), r, vals, where)),
	}
}

var monthKeys = []string{"month", "owner_id", "department_id"}

func followups(d dialect, r, sign string) []string {
	return activityBoth(d, r+".followed_at", r, map[string]string{"followups": sign + "1"}, r+".deleted_at IS NULL")
}

func customers(d dialect, r, sign string) []string {
	return activityBoth(d, r+".created_at", r, map[string]string{"new_customers": sign + "1"}, r+".deleted_at IS NULL")
}

func opportunities(d dialect, r, sign string) []string {
	won := "CASE WHEN " + r + ".status = 'won' THEN "
	return activityBoth(d, r+".closed_at", r, map[string]string{
		"won":            sign + won + "1 ELSE 0 END",
		"lost":           sign + "CASE WHEN " + r + ".status = 'lost' THEN 1 ELSE 0 END",
		"won_amount_fen": sign + won + r + ".amount_fen ELSE 0 END",
		"won_cycle_ms":   sign + won + d.millis(r+".created_at", r+".closed_at") + " ELSE 0 END",
	}, r+".deleted_at IS NULL AND "+r+".closed_at IS NOT NULL AND "+r+".status IN ('won', 'lost')")
}

type source struct {
	table   string
	short   string
	contrib contribution
	// watched are the columns whose change moves the row's share.
	watched []string
}

var sources = []source{
	{"sales", "sales", sales, []string{"sale_date", "owner_id", "department_id", "amount_fen", "deleted_at"}},
	{"sale_items", "sale_items", saleItems, []string{"sale_id", "product_id", "quantity", "total_fen"}},
	{"followups", "followups", followups, []string{"followed_at", "owner_id", "department_id", "deleted_at"}},
	{"customers", "customers", customers, []string{"created_at", "owner_id", "department_id", "deleted_at"}},
	{"opportunities", "opportunities", opportunities, []string{"status", "closed_at", "created_at", "owner_id", "department_id", "amount_fen", "deleted_at"}},
}

func (d dialect) changed(cols []string) string {
	var c []string
	for _, x := range cols {
		if d.mysql() {
			c = append(c, "NOT (OLD."+x+" <=> NEW."+x+")")
		} else {
			c = append(c, "OLD."+x+" IS NOT NEW."+x)
		}
	}
	return strings.Join(c, " OR ")
}

func (d dialect) trigger(name, event, table, when string, body []string) string {
	var b strings.Builder
	if d.mysql() {
		b.WriteString("-- +goose StatementBegin\n")
		fmt.Fprintf(&b, "CREATE TRIGGER %s AFTER %s ON %s FOR EACH ROW\nBEGIN\n", name, event, table)
		ind := "    "
		if when != "" {
			fmt.Fprintf(&b, "    IF %s THEN\n", when)
			ind = "        "
		}
		for _, s := range body {
			b.WriteString(ind + strings.ReplaceAll(s, "\n        ", "\n"+ind+"    ") + "\n")
		}
		if when != "" {
			b.WriteString("    END IF;\n")
		}
		b.WriteString("END;\n-- +goose StatementEnd\n\n")
		return b.String()
	}
	b.WriteString("-- +goose StatementBegin\n")
	fmt.Fprintf(&b, "CREATE TRIGGER %s AFTER %s ON %s FOR EACH ROW", name, event, table)
	if when != "" {
		fmt.Fprintf(&b, "\nWHEN %s", when)
	}
	b.WriteString("\nBEGIN\n")
	for _, s := range body {
		b.WriteString("    " + strings.ReplaceAll(s, "\n        ", "\n        ") + "\n")
	}
	b.WriteString("END;\n-- +goose StatementEnd\n\n")
	return b.String()
}

func main() {
	d := dialect{name: os.Args[1]}
	for _, s := range sources {
		fmt.Print(d.trigger("trg_report_"+s.short+"_ins", "INSERT", s.table, "", s.contrib(d, "NEW", "")))
		upd := append(s.contrib(d, "OLD", "-"), s.contrib(d, "NEW", "")...)
		fmt.Print(d.trigger("trg_report_"+s.short+"_upd", "UPDATE", s.table, d.changed(s.watched), upd))
		fmt.Print(d.trigger("trg_report_"+s.short+"_del", "DELETE", s.table, "", s.contrib(d, "OLD", "-")))
	}
	if len(os.Args) > 2 && os.Args[2] == "down" {
		for _, s := range sources {
			for _, e := range []string{"ins", "upd", "del"} {
				fmt.Printf("DROP TRIGGER trg_report_%s_%s;\n", s.short, e)
			}
		}
	}
}
