package web

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/go-sql-driver/mysql"

	"github.com/dingcrm/crm/internal/errs"
)

// errorBody is the one error shape of the API.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
	Detail  map[string]any    `json:"detail,omitempty"`
}

var kindStatus = map[errs.Kind]struct {
	status int
	code   string
}{
	errs.KindInvalid:      {http.StatusBadRequest, "validation_failed"},
	errs.KindNotFound:     {http.StatusNotFound, "not_found"},
	errs.KindConflict:     {http.StatusConflict, "conflict"},
	errs.KindForbidden:    {http.StatusForbidden, "forbidden"},
	errs.KindUnauthorized: {http.StatusUnauthorized, "unauthorized"},
	errs.KindUnavailable:  {http.StatusServiceUnavailable, "unavailable"},
	errs.KindRateLimited:  {http.StatusTooManyRequests, "rate_limited"},
}

// fail renders err as the API's error body. Domain errors get their status
// and localized message; anything else is logged in full and answered with
// a generic 500 (or 503 when the database is unreachable).
func (s *Server) fail(c *gin.Context, err error) {
	lang := langOf(c)
	var de *errs.Error
	if errors.As(err, &de) {
		ks, ok := kindStatus[de.Kind]
		if ok {
			body := errorDetail{Code: ks.code, Message: s.msg.T(lang, de.Key, de.Args), Detail: de.Detail}
			if de.Key == "error.csrf_failed" {
				body.Code = "csrf_failed"
			}
			if len(de.Fields) > 0 {
				body.Fields = map[string]string{}
				for name, f := range de.Fields {
					body.Fields[name] = s.msg.T(lang, f.Key, f.Args)
				}
			}
			c.AbortWithStatusJSON(ks.status, errorBody{body})
			return
		}
	}
	rid := c.GetString(ctxRequestID)
	if unavailable(err) {
		s.log.Error("database unavailable", "request_id", rid, "err", err)
		c.AbortWithStatusJSON(http.StatusServiceUnavailable, errorBody{errorDetail{Code: "unavailable",
			Message: s.msg.T(lang, "error.unavailable", nil)}})
		return
	}
	s.log.Error("request failed", "request_id", rid, "method", c.Request.Method, "path", c.FullPath(), "err", err)
	c.AbortWithStatusJSON(http.StatusInternalServerError, errorBody{errorDetail{Code: "internal",
		Message: s.msg.T(lang, "error.internal", map[string]any{"request_id": rid})}})
}

// unavailable says the database could not be reached or the connection
// broke mid-query: a refused or timed-out dial, a connection the server or
// the network closed (the MySQL driver's "invalid connection" and an
// unexpected EOF, seen by the requests in flight when MySQL goes away).
// The client should retry, so 503, not 500.
func unavailable(err error) bool {
	var ne *net.OpError
	return errors.As(err, &ne) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, mysql.ErrInvalidConn) || errors.Is(err, io.ErrUnexpectedEOF)
}

// bind decodes a JSON body strictly: one object, no unknown fields, within
// the size limit. Problems become 400s with the field named where possible.
func (s *Server) bind(c *gin.Context, dst any) bool {
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	if err == nil && dec.More() {
		err = errors.New("more than one JSON value")
	}
	if err == nil {
		if _, extra := io.Copy(io.Discard, io.LimitReader(dec.Buffered(), 1)); extra != nil {
			err = extra
		}
	}
	if err == nil {
		return true
	}
	s.failBind(c, err)
	return false
}

func (s *Server) failBind(c *gin.Context, err error) {
	lang := langOf(c)
	var tooBig *http.MaxBytesError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooBig):
		c.AbortWithStatusJSON(http.StatusRequestEntityTooLarge, errorBody{errorDetail{Code: "too_large",
			Message: s.msg.T(lang, "error.too_large", nil)}})
	case errors.As(err, &typeErr) && typeErr.Field != "":
		s.fail(c, errs.InvalidField(typeErr.Field, "validation.wrong_type"))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		s.fail(c, errs.InvalidField(field, "error.unknown_field", "field", field))
	default:
		detail := err.Error()
		if errors.Is(err, io.EOF) {
			detail = "empty body"
		}
		c.AbortWithStatusJSON(http.StatusBadRequest, errorBody{errorDetail{Code: "bad_json",
			Message: s.msg.T(lang, "error.bad_json", map[string]any{"detail": detail})}})
	}
}

// page is the list envelope.
type page[T any] struct {
	Items    []T `json:"items"`
	Total    int `json:"total"`
	Page     int `json:"page"`
	PageSize int `json:"page_size"`
}

func logAttrs(c *gin.Context) []any {
	return []any{slog.String("request_id", c.GetString(ctxRequestID))}
}
