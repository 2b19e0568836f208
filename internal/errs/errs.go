// Package errs defines the domain error values every service returns. A
// service says what went wrong (a Kind and a message key); the web layer
// alone decides the HTTP status and renders the message in the caller's
// language.
package errs

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Kind classifies an error for the transport layer.
type Kind int

// The kinds of domain error.
const (
	KindInternal Kind = iota
	KindInvalid
	KindNotFound
	KindConflict
	KindForbidden
	KindUnauthorized
	KindUnavailable
	KindRateLimited
)

// Error is a domain error: a kind, a stable message key (looked up in the
// i18n catalogue) with its arguments, and per-field problems for invalid input.
type Error struct {
	Kind   Kind
	Key    string
	Args   map[string]any
	Fields map[string]Field
	// Detail is optional machine-readable context a client can act on (e.g.
	// {"duplicate": {...}} on a duplicate customer); rendered as error.detail.
	Detail map[string]any
}

// Field is one field's problem: a message key and its arguments.
type Field struct {
	Key  string
	Args map[string]any
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return e.Key
	}
	names := make([]string, 0, len(e.Fields))
	for n, f := range e.Fields {
		names = append(names, n+"="+f.Key)
	}
	sort.Strings(names)
	return e.Key + ": " + strings.Join(names, ", ")
}

// Is makes errors.Is match two domain errors with the same kind and key, so
// sentinels like customer.ErrNotFound compare equal to fresh copies.
func (e *Error) Is(target error) bool {
	var t *Error
	if !errors.As(target, &t) {
		return false
	}
	return t.Kind == e.Kind && t.Key == e.Key
}

// New makes a domain error.
func New(kind Kind, key string) *Error { return &Error{Kind: kind, Key: key} }

// NotFound, Conflict, Forbidden are shorthands for sentinels.
func NotFound(key string) *Error  { return New(KindNotFound, key) }
func Conflict(key string) *Error  { return New(KindConflict, key) }
func Forbidden(key string) *Error { return New(KindForbidden, key) }

// ErrUnauthorized means no valid session.
var ErrUnauthorized = New(KindUnauthorized, "error.unauthorized")

// ErrForbidden means the Actor lacks a permission.
var ErrForbidden = Forbidden("error.forbidden")

// KindOf returns the Kind of err, KindInternal for anything that is not a
// domain error.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// Invalid collects per-field validation problems. The zero value is ready;
// Err returns nil when nothing was added.
type Invalid struct {
	fields map[string]Field
}

// Add records a problem with field (the first problem per field wins, since
// one message per field is what a form can show).
func (v *Invalid) Add(field, key string, args ...any) {
	if v.fields == nil {
		v.fields = map[string]Field{}
	}
	if _, ok := v.fields[field]; ok {
		return
	}
	f := Field{Key: key}
	if len(args) > 0 {
		f.Args = map[string]any{}
		for i := 0; i+1 < len(args); i += 2 {
			f.Args[fmt.Sprint(args[i])] = args[i+1]
		}
	}
	v.fields[field] = f
}

// Has reports whether field already has a problem.
func (v *Invalid) Has(field string) bool { _, ok := v.fields[field]; return ok }

// Err returns the collected problems as one error, or nil.
func (v *Invalid) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return &Error{Kind: KindInvalid, Key: "error.validation_failed", Fields: v.fields}
}

// InvalidField is a one-field validation error.
func InvalidField(field, key string, args ...any) error {
	var v Invalid
	v.Add(field, key, args...)
	return v.Err()
}
