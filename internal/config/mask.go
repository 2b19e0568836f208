package config

import (
	"fmt"
	"log/slog"
	"reflect"
	"regexp"
)

// passwordInDSN finds the password part of user:password@host DSNs.
var passwordInDSN = regexp.MustCompile(`^([^:@/]*):([^@]*)@`)

// LogValue renders the Config for logs with every secret masked, so logging
// the whole Config at start is safe.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(attrs(reflect.ValueOf(c))...)
}

func attrs(v reflect.Value) []slog.Attr {
	t := v.Type()
	var out []slog.Attr
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		key := f.Tag.Get("yaml")
		fv := v.Field(i)
		switch {
		case fv.Kind() == reflect.Struct && f.Type.String() != "time.Duration":
			out = append(out, slog.Attr{Key: key, Value: slog.GroupValue(attrs(fv)...)})
		case f.Tag.Get("mask") == "true":
			out = append(out, slog.String(key, mask(key, fv.String())))
		default:
			out = append(out, slog.String(key, fmt.Sprint(fv.Interface())))
		}
	}
	return out
}

func mask(key, s string) string {
	if s == "" {
		return ""
	}
	if key == "dsn" {
		return passwordInDSN.ReplaceAllString(s, "$1:***@")
	}
	return "***"
}
