package web

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// TestUnavailable: the errors a request meets when MySQL goes away are
// 503 (retry), not 500 — a refused dial, a dead pooled connection, and the
// in-flight query whose connection was cut (the driver's "invalid
// connection", an unexpected EOF), seen by crmload's fault run as 500s.
func TestUnavailable(t *testing.T) {
	for _, err := range []error{
		&net.OpError{Op: "dial", Err: errors.New("connection refused")},
		driver.ErrBadConn,
		context.DeadlineExceeded,
		fmt.Errorf("customer: list: %w", mysql.ErrInvalidConn),
		fmt.Errorf("auth: load session: %w", io.ErrUnexpectedEOF),
	} {
		if !unavailable(err) {
			t.Errorf("%v: not treated as the database unavailable", err)
		}
	}
	for _, err := range []error{errors.New("syntax error"), io.EOF, &mysql.MySQLError{Number: 1213}} {
		if unavailable(err) {
			t.Errorf("%v: treated as the database unavailable", err)
		}
	}
}
