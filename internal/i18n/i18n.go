// Package i18n holds the server's messages in zh-CN and en: error messages,
// field problems and option labels. The web app's own strings live in
// web/i18n; a test keeps both catalogues complete in both languages.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"strings"
)

// Languages supported, the default first.
var Languages = []string{"zh-CN", "en"}

//go:embed messages/*.json
var files embed.FS

// Catalog maps language → key → text.
type Catalog map[string]map[string]string

// Load reads the embedded catalogues.
func Load() (Catalog, error) {
	c := Catalog{}
	for _, lang := range Languages {
		b, err := files.ReadFile("messages/" + lang + ".json")
		if err != nil {
			return nil, err
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", lang, err)
		}
		c[lang] = m
	}
	return c, nil
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
