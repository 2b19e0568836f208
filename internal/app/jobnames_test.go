package app_test

import (
	"encoding/json"
	"testing"

	"github.com/dingcrm/crm/web"
)

// TestEveryJobNamedInTheUI: the 定时任务 page titles and describes each job
// by the keys jobs.name.<job> and jobs.desc.<job>; a job registered without
// them shows its raw key to the admin (as backup and log-retention did).
func TestEveryJobNamedInTheUI(t *testing.T) {
	names := embeddedApp(t).Jobs.Names()
	if len(names) < 10 {
		t.Fatalf("only %d jobs registered: %v", len(names), names)
	}
	for _, lang := range []string{"zh-CN", "en"} {
		b, err := web.Files.ReadFile("i18n/" + lang + ".json")
		if err != nil {
			t.Fatal(err)
		}
		var cat map[string]string
		if err := json.Unmarshal(b, &cat); err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			for _, key := range []string{"jobs.name." + n, "jobs.desc." + n} {
				if cat[key] == "" {
					t.Errorf("%s: %s missing", lang, key)
				}
			}
		}
	}
}
