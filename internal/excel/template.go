package excel

import (
	"bytes"
	"context"
	"fmt"

	"github.com/xuri/excelize/v2"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/option"
)

// Template is the customer import template in lang: the headers, one
// example row, drop-down lists for the option columns (their labels; codes
// are accepted too), phone columns formatted as text so Excel keeps every
// digit, and a sheet of instructions. It needs customer.import.
func (s *Service) Template(ctx context.Context, a *auth.Actor, lang string) ([]byte, string, error) {
	if err := a.Require(permImport); err != nil {
		return nil, "", err
	}
	l := s.Locale(lang)
	f := excelize.NewFile()
	defer f.Close()
	sheet := sheetName(l.T("excel.sheet.customer"))
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return nil, "", fmt.Errorf("excel: template: %w", err)
	}
	active, err := s.activeOptions(ctx)
	if err != nil {
		return nil, "", err
	}
	dropLists := func(f *excelize.File, sheet string, l Locale) error { return addDropLists(f, sheet, l, active) }
	steps := []func(*excelize.File, string, Locale) error{writeTemplateRows, formatTemplate, dropLists, s.addHelp}
	for _, step := range steps {
		if err := step(f, sheet, l); err != nil {
			return nil, "", fmt.Errorf("excel: template: %w", err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		return nil, "", fmt.Errorf("excel: template: %w", err)
	}
	return buf.Bytes(), l.T("excel.file.template") + ".xlsx", nil
}

// templateRows is the example row, by column key.
func exampleRow(l Locale) map[string]string {
	return map[string]string{
		"name": l.T("excel.example.name"), "phone": "13912345678", "company": l.T("excel.example.company"),
		"address": l.T("excel.example.address"), "industry": l.Option("industry", "it"),
		"source": l.Option("source", "exhibition"), "level": l.Option("level", "a"),
		"status": l.Option("status", "intent"), "tags": l.T("excel.example.tags"), "note": l.T("excel.example.note"),
		"contact_name": l.T("excel.example.contact_name"), "contact_phone": "13812345678",
	}
}

func writeTemplateRows(f *excelize.File, sheet string, l Locale) error {
	example := exampleRow(l)
	headers := make([]any, len(customerColumns))
	values := make([]any, len(customerColumns))
	for i, c := range customerColumns {
		headers[i] = l.T("excel.col." + c.key)
		values[i] = example[c.key]
	}
	if err := f.SetSheetRow(sheet, "A1", &headers); err != nil {
		return err
	}
	return f.SetSheetRow(sheet, "A2", &values)
}

// formatTemplate makes the header bold (the required column red), the
// phone columns text, and freezes the header row.
func formatTemplate(f *excelize.File, sheet string, l Locale) error {
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	required, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true, Color: "C00000"}})
	if err != nil {
		return err
	}
	text, err := f.NewStyle(&excelize.Style{NumFmt: 49}) // "@": text
	if err != nil {
		return err
	}
	last, _ := excelize.ColumnNumberToName(len(customerColumns))
	if err := f.SetCellStyle(sheet, "A1", last+"1", bold); err != nil {
		return err
	}
	for i, c := range customerColumns {
		col, _ := excelize.ColumnNumberToName(i + 1)
		if err := f.SetColWidth(sheet, col, col, columnWidth(l.T("excel.col."+c.key))+6); err != nil {
			return err
		}
		if c.key == "name" {
			if err := f.SetCellStyle(sheet, col+"1", col+"1", required); err != nil {
				return err
			}
		}
		if c.key == "phone" || c.key == "contact_phone" {
			if err := f.SetColStyle(sheet, col, text); err != nil {
				return err
			}
			if err := f.SetCellStyle(sheet, col+"1", col+"1", bold); err != nil {
				return err
			}
		}
	}
	return f.SetPanes(sheet, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"})
}

// activeOptions are the codes the company offers now, per editable column
// (none: the built-in lists).
func (s *Service) activeOptions(ctx context.Context) (map[string][]string, error) {
	out := map[string][]string{}
	if s.labels == nil {
		return out, nil
	}
	for key, list := range map[string]string{"industry": option.Industries, "source": option.Sources, "level": option.Levels} {
		set, err := s.labels.OptionSet(ctx, list)
		if err != nil {
			return nil, err
		}
		out[key] = set.Active
	}
	return out, nil
}

// addDropLists offers the option columns' labels as drop-down lists. The
// error style is a warning, so a typed code (also accepted) can be kept.
func addDropLists(f *excelize.File, sheet string, l Locale, active map[string][]string) error {
	for i, c := range customerColumns {
		if c.options == nil {
			continue
		}
		codes := c.options
		if a, ok := active[c.key]; ok {
			codes = a
		}
		labels := make([]string, len(codes))
		for j, code := range codes {
			labels[j] = l.Option(c.key, code)
		}
		col, _ := excelize.ColumnNumberToName(i + 1)
		dv := excelize.NewDataValidation(true)
		dv.Sqref = fmt.Sprintf("%s2:%s%d", col, col, DefaultLimits.MaxRows+1)
		if err := dv.SetDropList(labels); err != nil {
			continue // a list too long for Excel's 255 characters: no drop-down, values still checked
		}
		dv.SetError(excelize.DataValidationErrorStyleWarning, l.T("excel.col."+c.key), l.T("validation.not_an_option"))
		if err := f.AddDataValidation(sheet, dv); err != nil {
			return err
		}
	}
	return nil
}

// addHelp adds the instructions sheet.
func (s *Service) addHelp(f *excelize.File, _ string, l Locale) error {
	help := sheetName(l.T("excel.sheet.help"))
	if _, err := f.NewSheet(help); err != nil {
		return err
	}
	for i := 1; i <= 7; i++ {
		text := l.T(fmt.Sprintf("excel.help.%d", i), "rows", s.limits.MaxRows, "mb", s.limits.MaxFileBytes>>20,
			"background", s.limits.BackgroundRows)
		if err := f.SetCellValue(help, fmt.Sprintf("A%d", i), text); err != nil {
			return err
		}
	}
	return f.SetColWidth(help, "A", "A", 100)
}
