package main

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/go-sql-driver/mysql"

	"github.com/dingcrm/crm/internal/store"
)

// prepareDatabase creates the database named in dsn if it is missing, or
// drops and recreates it when reset is set. It works on a server-level
// connection because the database may not exist yet.
func prepareDatabase(ctx context.Context, dsn string, reset bool) error {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return fmt.Errorf("bad dsn: %w", err)
	}
	name := cfg.DBName
	if name == "" || strings.ContainsAny(name, "`\\") {
		return fmt.Errorf("dsn must name a plain database, got %q", name)
	}
	cfg.DBName = ""
	server, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return err
	}
	defer server.Close()
	if reset {
		if _, err := server.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+name+"`"); err != nil {
			return fmt.Errorf("drop database %s: %w", name, err)
		}
	}
	_, err = server.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS `"+name+"` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
	if err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// openMySQL opens the benchmark database through the CRM's own store.Open,
// so the connection settings (UTC, utf8mb4, pool) are the server's. The
// bulk loader asks for client-side parameter interpolation: its statements
// carry tens of thousands of values and run once, so preparing them on the
// server would only add round trips.
func openMySQL(ctx context.Context, dsn string, interpolate bool) (*store.DB, error) {
	if interpolate {
		cfg, err := mysql.ParseDSN(dsn)
		if err != nil {
			return nil, fmt.Errorf("bad dsn: %w", err)
		}
		cfg.InterpolateParams = true
		dsn = cfg.FormatDSN()
	}
	return store.Open(ctx, store.Options{Driver: string(store.MySQL), DSN: dsn})
}
