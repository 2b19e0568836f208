package web

import (
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/dingcrm/crm/internal/errs"
)

// params reads query parameters, collecting every problem into one 400.
type params struct {
	c   *gin.Context
	loc *time.Location
	v   errs.Invalid
}

func (s *Server) params(c *gin.Context) *params { return &params{c: c, loc: s.loc} }

func (p *params) str(name string) string { return strings.TrimSpace(p.c.Query(name)) }

// id reads a positive integer (0 when absent).
func (p *params) id(name string) int64 {
	raw := p.str(name)
	if raw == "" {
		return 0
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n < 1 {
		p.v.Add(name, "validation.number")
		return 0
	}
	return n
}

// ids reads a comma-separated list of positive integers (at most 500).
func (p *params) ids(name string) []int64 {
	raw := p.str(name)
	if raw == "" {
		return nil
	}
	parts := strings.Split(raw, ",")
	if len(parts) > 500 {
		p.v.Add(name, "validation.number")
		return nil
	}
	out := make([]int64, 0, len(parts))
	for _, s := range parts {
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil || n < 1 {
			p.v.Add(name, "validation.number")
			return nil
		}
		out = append(out, n)
	}
	return out
}

// int reads an integer that the service validates further (page sizes);
// absent is 0, which services read as "the default".
func (p *params) int(name string) int {
	raw := p.str(name)
	if raw == "" {
		return 0
	}
	n, err := strconv.Atoi(raw)
	if err != nil {
		p.v.Add(name, "validation.number")
		return 0
	}
	if n == 0 {
		return -1 // explicit zero is invalid, not "default"
	}
	return n
}

func (p *params) boolean(name string) *bool {
	raw := p.str(name)
	if raw == "" {
		return nil
	}
	b, err := strconv.ParseBool(raw)
	if err != nil {
		p.v.Add(name, "validation.boolean")
		return nil
	}
	return &b
}

// date reads a date (2026-11-27, midnight in the company time zone) or an
// RFC 3339 time. With endOfDay a bare date means the end of that day, so a
// range "to 2026-11-27" includes the 27th.
func (p *params) date(name string, endOfDay bool) *time.Time {
	raw := p.str(name)
	if raw == "" {
		return nil
	}
	if t, err := time.Parse(time.RFC3339, raw); err == nil {
		t = t.UTC()
		return &t
	}
	t, err := time.ParseInLocation("2006-01-02", raw, p.loc)
	if err != nil {
		p.v.Add(name, "validation.date")
		return nil
	}
	if endOfDay {
		t = t.AddDate(0, 0, 1)
	}
	t = t.UTC()
	return &t
}

func (p *params) err() error { return p.v.Err() }

// pathID reads the :id path parameter.
func pathID(c *gin.Context) (int64, error) {
	n, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || n < 1 {
		return 0, errs.NotFound("error.not_found")
	}
	return n, nil
}
