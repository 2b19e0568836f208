// Package sqlmig embeds the schema migrations, one folder per SQL dialect.
// They are run by goose; the files are the schema's single source of truth.
package sqlmig

import "embed"

// FS holds mysql/*.sql and sqlite/*.sql.
//
//go:embed mysql/*.sql sqlite/*.sql
var FS embed.FS
