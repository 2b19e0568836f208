// Package i18n holds the server's messages in zh-CN and en: error messages,
// field problems and option labels. The web app's own strings live in
// web/i18n; a test keeps both catalogues complete in both languages.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"
)

// Languages supported, the default first.
var Languages = []string{"zh-CN", "en"}

// Each module keeps its messages in its own file, messages/<lang>/<module>.json,
// so modules can be added without touching one shared file.
//
//go:embed messages
var files embed.FS

// Catalog maps language → key → text.
type Catalog map[string]map[string]string

// Load reads the embedded catalogues.
func Load() (Catalog, error) {
	c := Catalog{}
	for _, lang := range Languages {
		names, err := fs.Glob(files, "messages/"+lang+"/*.json")
		if err != nil {
			return nil, err
		}
		m := map[string]string{}
		for _, name := range names {
			if err := merge(m, name); err != nil {
				return nil, err
			}
		}
		c[lang] = m
	}
	return c, nil
}

// merge adds one file's messages, refusing a key defined twice.
func merge(into map[string]string, name string) error {
	b, err := files.ReadFile(name)
	if err != nil {
		return err
	}
	part := map[string]string{}
	if err := json.Unmarshal(b, &part); err != nil {
		return fmt.Errorf("i18n: %s: %w", name, err)
	}
	for k, v := range part {
		if _, dup := into[k]; dup {
			return fmt.Errorf("i18n: %s: key %q is defined in another file too", name, k)
		}
		into[k] = v
	}
	return nil
}

// MustLoad is Load for program start, where a broken catalogue is a bug.
func MustLoad() Catalog {
	c, err := Load()
	if err != nil {
		panic(err)
	}
	return c
}

// Match picks a supported language from an Accept-Language value or a saved
// preference; "" when none matches.
func Match(s string) string {
	for _, part := range strings.Split(s, ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		switch {
		case tag == "":
		case strings.HasPrefix(tag, "zh"):
			return "zh-CN"
		case strings.HasPrefix(tag, "en"):
			return "en"
		}
	}
	return ""
}

// T renders key in lang, replacing {name} with args["name"]. A missing key
// falls back to zh-CN, then to the key itself, so a gap never blanks a page.
func (c Catalog) T(lang, key string, args map[string]any) string {
	text, ok := c[lang][key]
	if !ok {
		if text, ok = c["zh-CN"][key]; !ok {
			text = key
		}
	}
	for k, v := range args {
		text = strings.ReplaceAll(text, "{"+k+"}", fmt.Sprint(v))
	}
	return text
}
