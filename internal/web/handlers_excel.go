package web

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/dingcrm/crm/internal/contact"
	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/deal"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/excel"
	"github.com/dingcrm/crm/internal/followup"
	"github.com/dingcrm/crm/internal/sale"
)

// xlsxType is the media type of an .xlsx workbook.
const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// multipartSlack is what a multipart envelope may add to the file it carries.
const multipartSlack = 64 << 10

// excelRoutes registers the excel endpoints on the signed-in group. The
// import route replaces the global body cap with its own (the file limit
// plus the multipart envelope).
func (s *Server) excelRoutes(g *gin.RouterGroup) {
	maxFile := s.Excel.Limits().MaxFileBytes
	g.GET("/customers/import/template", s.importTemplate)
	g.POST("/customers/import",
		s.withBodyLimit(maxFile+multipartSlack, "excel.file_too_large", map[string]any{"mb": maxFile >> 20}),
		s.importCustomers)
	g.GET("/imports/:id", s.getImport)
	g.GET("/imports/:id/errors.xlsx", s.importErrors)
	g.GET("/customers/export", exportList(s, s.customerFilter, func(f customer.Filter) excel.Source { return excel.CustomerSource(s.Customers, f, s.Reports) }))
	g.GET("/contacts/export", exportList(s, s.contactFilter, func(f contact.Filter) excel.Source { return excel.ContactSource(s.Contacts, f) }))
	g.GET("/followups/export", exportList(s, s.followupFilter, func(f followup.Filter) excel.Source { return excel.FollowupSource(s.Followups, f) }))
	g.GET("/sales/export", exportList(s, s.saleFilter, func(f sale.Filter) excel.Source { return excel.SaleSource(s.Sales, f) }))
	g.GET("/opportunities/export", exportList(s, s.opportunityFilter, func(f deal.Filter) excel.Source { return excel.OpportunitySource(s.Deals, f) }))
}

// importJSON is an import job with the link to its rejected rows.
type importJSON struct {
	*excel.Job
	ErrorFileURL *string `json:"error_file_url"`
}

func importView(j *excel.Job) importJSON {
	v := importJSON{Job: j}
	if j.HasErrorFile {
		url := fmt.Sprintf("/api/v1/imports/%d/errors.xlsx", j.ID)
		v.ErrorFileURL = &url
	}
	return v
}

func (s *Server) importTemplate(c *gin.Context) {
	b, name, err := s.Excel.Template(c.Request.Context(), actorOf(c), langOf(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	sendFile(c, name, b)
}

// importCustomers takes the multipart field "file" and query dry_run. A
// small file is answered when done (200); a large one with 202 and the job
// to poll.
func (s *Server) importCustomers(c *gin.Context) {
	p := s.params(c)
	dry := p.boolean("dry_run")
	if err := p.err(); err != nil {
		s.fail(c, err)
		return
	}
	name, body, err := uploadedFile(c)
	if err != nil {
		s.failUpload(c, err)
		return
	}
	job, background, err := s.Excel.ImportCustomers(c.Request.Context(), actorOf(c), excel.ImportRequest{
		FileName: name, Body: body, DryRun: dry != nil && *dry, Lang: langOf(c)})
	if err != nil {
		s.failUpload(c, err)
		return
	}
	status := http.StatusOK
	if background {
		status = http.StatusAccepted
		c.Header("Location", fmt.Sprintf("/api/v1/imports/%d", job.ID))
	}
	c.JSON(status, importView(job))
}

// uploadedFile finds the multipart part "file" and returns its name and a
// reader of its content, streamed from the request (nothing is buffered
// here; the service reads it within its limit).
func uploadedFile(c *gin.Context) (string, io.Reader, error) {
	mr, err := c.Request.MultipartReader()
	if err != nil {
		return "", nil, excel.ErrFileRequired
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return "", nil, excel.ErrFileRequired
		}
		if err != nil {
			return "", nil, err
		}
		if part.FormName() == "file" {
			return part.FileName(), part, nil
		}
	}
}

// failUpload answers an upload's failure: 413 for a file over the limit
// (whether the service or the body cap noticed), else as any error.
func (s *Server) failUpload(c *gin.Context, err error) {
	var tooBig *http.MaxBytesError
	var de *errs.Error
	switch {
	case errors.As(err, &tooBig):
		s.tooLarge(c, "excel.file_too_large", map[string]any{"mb": s.Excel.Limits().MaxFileBytes >> 20})
	case errors.Is(err, excel.ErrFileTooLarge) && errors.As(err, &de):
		s.tooLarge(c, de.Key, de.Args)
	default:
		s.fail(c, err)
	}
}

func (s *Server) getImport(c *gin.Context) {
	id, err := pathID(c)
	if err == nil {
		var j *excel.Job
		if j, err = s.Excel.Job(c.Request.Context(), actorOf(c), id); err == nil {
			c.JSON(http.StatusOK, importView(j))
			return
		}
	}
	s.fail(c, err)
}

func (s *Server) importErrors(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	b, name, err := s.Excel.ErrorFile(c.Request.Context(), actorOf(c), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	sendFile(c, name, b)
}

// exportList answers a list's export: the list's own filter parsing, then
// the module's export source, so an export always holds what the list
// shows (same filters, same data scope).
func exportList[F any](s *Server, parse func(*gin.Context) (F, error), source func(F) excel.Source) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !s.checkExportFormat(c) {
			return
		}
		f, err := parse(c)
		if err != nil {
			s.fail(c, err)
			return
		}
		s.sendExport(c, source(f))
	}
}

// checkExportFormat accepts format=xlsx (the default) only.
func (s *Server) checkExportFormat(c *gin.Context) bool {
	if f := c.Query("format"); f != "" && f != "xlsx" {
		s.fail(c, errs.InvalidField("format", "excel.format"))
		return false
	}
	return true
}

// sendExport writes src's export; errors before the first byte are
// answered as usual, a failure while streaming can only be logged.
func (s *Server) sendExport(c *gin.Context, src excel.Source) {
	exp, err := s.Excel.Export(c.Request.Context(), actorOf(c), src, langOf(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	defer exp.Close()
	c.Header("Content-Type", xlsxType)
	c.Header("Content-Disposition", attachment(exp.FileName))
	c.Header("X-Export-Rows", fmt.Sprint(exp.Rows))
	c.Status(http.StatusOK)
	if err := exp.Write(c.Writer); err != nil {
		s.log.Error("export interrupted", append(logAttrs(c), "err", err)...)
	}
}

func sendFile(c *gin.Context, name string, b []byte) {
	c.Header("Content-Disposition", attachment(name))
	c.Data(http.StatusOK, xlsxType, b)
}

// attachment is a Content-Disposition for a download; mime encodes a
// non-ASCII name per RFC 2231 (as filename*, percent-encoded UTF-8), which
// browsers read.
func attachment(name string) string {
	return mime.FormatMediaType("attachment", map[string]string{"filename": name})
}
