package i18n

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// TestCataloguesComplete fails when a key exists in one language and not
// the other, for the server's messages and for the web app's strings.
func TestCataloguesComplete(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	compare(t, "server", c["zh-CN"], c["en"])
	web := map[string]map[string]string{}
	for _, lang := range Languages {
		b, err := os.ReadFile(filepath.Join("..", "..", "web", "i18n", lang+".json"))
		if err != nil {
			t.Fatalf("web catalogue %s: %v", lang, err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("web catalogue %s: %v", lang, err)
		}
		web[lang] = m
	}
	compare(t, "web", web["zh-CN"], web["en"])
}

func compare(t *testing.T, name string, zh, en map[string]string) {
	t.Helper()
	var missing []string
	for k, v := range zh {
		if en[k] == "" {
			missing = append(missing, "en:"+k)
		}
		if v == "" {
			missing = append(missing, "zh-CN:"+k)
		}
	}
	for k := range en {
		if _, ok := zh[k]; !ok {
			missing = append(missing, "zh-CN:"+k)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("%s catalogue: missing or empty keys: %v", name, missing)
	}
	if len(zh) == 0 {
		t.Errorf("%s catalogue is empty", name)
	}
}

func TestMatchAndT(t *testing.T) {
	tests := []struct{ in, want string }{
		{"en-US,en;q=0.9", "en"}, {"zh-CN", "zh-CN"}, {"zh-TW;q=0.8", "zh-CN"}, {"fr", ""}, {"", ""}, {"fr, en;q=0.5", "en"},
	}
	for _, tt := range tests {
		if got := Match(tt.in); got != tt.want {
			t.Errorf("Match(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	c := MustLoad()
	if got := c.T("en", "validation.too_long", map[string]any{"max": 5}); got != "At most 5 characters" {
		t.Errorf("T = %q", got)
	}
	if got := c.T("en", "no.such.key", nil); got != "no.such.key" {
		t.Errorf("missing key = %q", got)
	}
}
