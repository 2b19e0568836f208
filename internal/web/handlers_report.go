package web

import (
	"bytes"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/report"
	"github.com/dingcrm/crm/internal/reportexport"
	"github.com/dingcrm/crm/internal/reportview"
	"github.com/dingcrm/crm/internal/rfm"
)

// reportRoutes registers the reports, their RFM settings and the targets.
func (s *Server) reportRoutes(g *gin.RouterGroup) {
	g.GET("/reports/rfm/settings", s.getRFMSettings)
	g.PUT("/reports/rfm/settings", s.putRFMSettings)
	g.GET("/reports/:type", s.getReport)
	g.GET("/targets", s.listTargets)
	g.PUT("/targets", s.setTargets)
	g.GET("/targets/attainment", s.getAttainment)
}

func (s *Server) reportParams(c *gin.Context) (report.Params, string, error) {
	p := s.params(c)
	rp := report.Params{Type: c.Param("type"), From: p.str("from"), To: p.str("to"), Preset: p.str("preset"),
		GroupBy: p.str("group_by"), UserID: p.id("user_id"), DepartmentID: p.id("department_id"),
		CustomerID: p.id("customer_id"), ProductID: p.id("product_id"), DormantDays: p.int("dormant_days"), Lang: langOf(c)}
	format := p.str("format")
	if format != "" && format != "json" && format != "xlsx" && format != "pdf" {
		p.v.Add("format", "report.format")
	}
	return rp, format, p.err()
}

// getReport computes a report as JSON, or (format=xlsx|pdf) its export.
func (s *Server) getReport(c *gin.Context) {
	rp, format, err := s.reportParams(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	a := actorOf(c)
	if format == "xlsx" || format == "pdf" {
		if err := a.Require(report.PermExport); err != nil {
			s.fail(c, err)
			return
		}
	}
	r, err := s.Reports.Build(c.Request.Context(), a, rp)
	if err != nil {
		s.fail(c, err)
		return
	}
	if format == "xlsx" || format == "pdf" {
		s.exportReport(c, r, format)
		return
	}
	c.JSON(http.StatusOK, r)
}

// exportReport answers the report as an .xlsx or .pdf download, rendered
// from the same reportview.Report as the JSON (package reportexport). It is
// rendered into memory first (a year's report is tens of kB), so a failure
// is a clean 500 rather than a truncated file.
func (s *Server) exportReport(c *gin.Context, r *reportview.Report, format string) {
	var buf bytes.Buffer
	render, ctype := reportexport.XLSX, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	if format == "pdf" {
		render, ctype = reportexport.PDF, "application/pdf"
	}
	if err := render(&buf, *r); err != nil {
		s.fail(c, err)
		return
	}
	name := r.Title + "-" + time.Now().In(s.loc).Format("20060102-1504") + "." + format
	c.Header("Content-Disposition", attachment(name))
	c.Data(http.StatusOK, ctype, buf.Bytes())
}

func (s *Server) getRFMSettings(c *gin.Context) {
	set, err := s.Reports.RFMSettings(c.Request.Context(), actorOf(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, set)
}

func (s *Server) putRFMSettings(c *gin.Context) {
	var in rfm.Settings
	if !s.bind(c, &in) {
		return
	}
	set, err := s.Reports.SaveRFMSettings(c.Request.Context(), actorOf(c), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, set)
}

func (s *Server) listTargets(c *gin.Context) {
	p := s.params(c)
	f := report.TargetFilter{Year: p.int("year"), Kind: p.str("kind"), SubjectID: p.id("subject_id")}
	if err := p.err(); err != nil {
		s.fail(c, err)
		return
	}
	items, err := s.Reports.ListTargets(c.Request.Context(), actorOf(c), f)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
}

func (s *Server) setTargets(c *gin.Context) {
	var in struct {
		Items []report.TargetInput `json:"items"`
	}
	if !s.bind(c, &in) {
		return
	}
	items, err := s.Reports.SetTargets(c.Request.Context(), actorOf(c), in.Items)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
}

func (s *Server) getAttainment(c *gin.Context) {
	out, err := s.Reports.Attainment(c.Request.Context(), actorOf(c), c.Query("period"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

var _ = strconv.Itoa
var _ = errs.ErrForbidden
