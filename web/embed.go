// Package web holds the H5 micro-app: static files embedded into the binary,
// so the CRM runs with no build step and no files beside it.
package web

import "embed"

// Files is the web app: index.html at the root, scripts and styles under
// assets/, the UI string catalogues under i18n/.
//
//go:embed index.html assets i18n
var Files embed.FS
