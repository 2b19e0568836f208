package web_test

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dingcrm/crm/internal/apptest"
	"github.com/dingcrm/crm/internal/excel/exceltest"
)

type companyJSON struct {
	Name             string `json:"name"`
	Phone            string `json:"phone"`
	Email            string `json:"email"`
	Address          string `json:"address"`
	Lang             string `json:"lang"`
	Timezone         string `json:"timezone"`
	Currency         string `json:"currency"`
	CurrencySymbol   string `json:"currency_symbol"`
	CurrencyPosition string `json:"currency_position"`
	WorkingDays      []int  `json:"working_days"`
	QuietStart       string `json:"quiet_start"`
	QuietEnd         string `json:"quiet_end"`
	LogoURL          string `json:"logo_url"`
	Version          int64  `json:"version"`
}

type optionJSON struct {
	Code    string `json:"code"`
	LabelZh string `json:"label_zh"`
	LabelEn string `json:"label_en"`
	Active  bool   `json:"active"`
}

type optionListJSON struct {
	List  string       `json:"list"`
	Items []optionJSON `json:"items"`
}

func getSettings(t *testing.T, c *apptest.Client) companyJSON {
	t.Helper()
	var out companyJSON
	if st := c.Do("GET", "/api/v1/settings", nil, &out); st != 200 {
		t.Fatalf("GET /settings: %d", st)
	}
	return out
}

func optionList(t *testing.T, c *apptest.Client, list string) optionListJSON {
	t.Helper()
	var out optionListJSON
	if st := c.Do("GET", "/api/v1/settings/options/"+list, nil, &out); st != 200 {
		t.Fatalf("GET options %s: %d", list, st)
	}
	return out
}

// TestSettingsRoundTrip: defaults, a change by an admin read back by
// everyone, refused to a salesperson, audited with before and after.
func TestSettingsRoundTrip(t *testing.T) {
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv := apptest.StartOn(t, engine)
			admin, s1 := srv.Login(t, "sim_admin"), srv.Login(t, "sim_s1")
			def := getSettings(t, s1)
			if def.Lang != "zh-CN" || def.Timezone != "Asia/Shanghai" || def.Currency != "CNY" || def.CurrencySymbol != "¥" ||
				!reflect.DeepEqual(def.WorkingDays, []int{1, 2, 3, 4, 5}) || def.QuietStart != "22:00" || def.QuietEnd != "08:00" {
				t.Fatalf("defaults: %+v", def)
			}
			in := map[string]any{"name": "杭州示例科技", "phone": "0571-8888 6666", "email": "hello@example.com",
				"address": "杭州市西湖区", "lang": "en", "timezone": "Europe/Berlin", "currency": "eur",
				"currency_symbol": "€", "currency_position": "after", "working_days": []int{6, 1, 2, 1},
				"quiet_start": "21:30", "quiet_end": "07:15"}
			if st := s1.Do("PUT", "/api/v1/settings", in, nil); st != 403 {
				t.Errorf("salesperson PUT: %d, want 403", st)
			}
			var got companyJSON
			if st := admin.Do("PUT", "/api/v1/settings", in, &got); st != 200 {
				t.Fatalf("PUT: %d", st)
			}
			want := companyJSON{Name: "杭州示例科技", Phone: "0571-8888 6666", Email: "hello@example.com", Address: "杭州市西湖区",
				Lang: "en", Timezone: "Europe/Berlin", Currency: "EUR", CurrencySymbol: "€", CurrencyPosition: "after",
				WorkingDays: []int{1, 2, 6}, QuietStart: "21:30", QuietEnd: "07:15", Version: got.Version}
			if !reflect.DeepEqual(got, want) || got.Version <= def.Version {
				t.Fatalf("PUT answer:\n got %+v\nwant %+v", got, want)
			}
			if again := getSettings(t, s1); !reflect.DeepEqual(again, want) {
				t.Errorf("read back by a salesperson: %+v", again)
			}
			// A partial PUT changes only what it names.
			admin.Do("PUT", "/api/v1/settings", map[string]any{"name": "新名字"}, &got)
			if got.Name != "新名字" || got.Timezone != "Europe/Berlin" {
				t.Errorf("partial PUT: %+v", got)
			}
			var a auditJSON
			admin.Do("GET", "/api/v1/audit?entity=setting", nil, &a)
			if a.Total != 2 {
				t.Fatalf("audit entries: %d, want 2", a.Total)
			}
			tz := a.Items[1].Changes["timezone"]
			if tz["old"] != "Asia/Shanghai" || tz["new"] != "Europe/Berlin" || a.Items[0].Changes["name"]["old"] != "杭州示例科技" {
				t.Errorf("audit changes: %+v / %+v", a.Items[1].Changes, a.Items[0].Changes)
			}
			if _, ok := a.Items[0].Changes["timezone"]; ok {
				t.Errorf("unchanged field audited: %+v", a.Items[0].Changes)
			}
		})
	}
}

// badCase is one refused request: the status, and for a 400 the field and a
// part of its English message.
type badCase struct {
	name, method, path string
	body               any
	status             int
	field, message     string
}

// TestSettingsBadInput: every nonsensical setting is refused with a
// localized message on its field, and nothing changes (no new version, no
// audit entry).
func TestSettingsBadInput(t *testing.T) {
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv := apptest.StartOn(t, engine)
			admin := srv.Login(t, "sim_admin")
			before := getSettings(t, admin)
			beforeSources := optionList(t, admin, "sources")
			cases := []badCase{
				{"unknown time zone", "PUT", "/api/v1/settings", map[string]any{"timezone": "Mars/Olympus"}, 400, "timezone", "Unknown time zone: Mars/Olympus"},
				{"Local is no zone", "PUT", "/api/v1/settings", map[string]any{"timezone": "Local"}, 400, "timezone", "Unknown time zone"},
				{"empty zone", "PUT", "/api/v1/settings", map[string]any{"timezone": ""}, 400, "timezone", "Unknown time zone"},
				{"no working days", "PUT", "/api/v1/settings", map[string]any{"working_days": []int{}}, 400, "working_days", "at least one working day"},
				{"weekday 0", "PUT", "/api/v1/settings", map[string]any{"working_days": []int{0, 1}}, 400, "working_days", "Monday to Sunday"},
				{"weekday 8", "PUT", "/api/v1/settings", map[string]any{"working_days": []int{8}}, 400, "working_days", "Monday to Sunday"},
				{"hour 25", "PUT", "/api/v1/settings", map[string]any{"quiet_start": "25:00"}, 400, "quiet_start", "HH:MM"},
				{"one digit hour", "PUT", "/api/v1/settings", map[string]any{"quiet_end": "7:00"}, 400, "quiet_end", "HH:MM"},
				{"minute 60", "PUT", "/api/v1/settings", map[string]any{"quiet_end": "07:60"}, 400, "quiet_end", "HH:MM"},
				{"quiet start only", "PUT", "/api/v1/settings", map[string]any{"quiet_start": "", "quiet_end": "08:00"}, 400, "quiet_start", "HH:MM"},
				{"quiet same", "PUT", "/api/v1/settings", map[string]any{"quiet_start": "08:00", "quiet_end": "08:00"}, 400, "quiet_end", "same time"},
				{"currency", "PUT", "/api/v1/settings", map[string]any{"currency": "yuan"}, 400, "currency", "three capital letters"},
				{"position", "PUT", "/api/v1/settings", map[string]any{"currency_position": "middle"}, 400, "currency_position", ""},
				{"language", "PUT", "/api/v1/settings", map[string]any{"lang": "fr"}, 400, "lang", ""},
				{"e-mail", "PUT", "/api/v1/settings", map[string]any{"email": "not-an-address"}, 400, "email", ""},
				{"empty name", "PUT", "/api/v1/settings", map[string]any{"name": "  "}, 400, "name", "Required"},
				{"unknown field", "PUT", "/api/v1/settings", map[string]any{"nonsense": 1}, 400, "", ""},
				{"empty list", "PUT", "/api/v1/settings/options/sources", map[string]any{"items": []any{}}, 400, "items", "cannot be empty"},
				{"missing items", "PUT", "/api/v1/settings/options/sources", map[string]any{}, 400, "items", "Required"},
				{"duplicate codes", "PUT", "/api/v1/settings/options/levels", map[string]any{"items": []any{
					map[string]any{"code": "a"}, map[string]any{"code": "b"}, map[string]any{"code": "c"}, map[string]any{"code": "d"},
					map[string]any{"code": "a", "label_zh": "重复", "label_en": "Dup"}}}, 400, "items", "Duplicate option code: a"},
				{"duplicate label", "POST", "/api/v1/settings/options/levels", map[string]any{"code": "e", "label_zh": "A 重点客户", "label_en": "E"}, 400, "items", "Duplicate option name"},
				{"bad code", "POST", "/api/v1/settings/options/sources", map[string]any{"code": "Trade Show", "label_zh": "展会2", "label_en": "Show 2"}, 400, "code", "lower-case"},
				{"label missing", "POST", "/api/v1/settings/options/sources", map[string]any{"code": "fair", "label_zh": "集市"}, 400, "label_en", "Required"},
				{"option removed", "PUT", "/api/v1/settings/options/levels", map[string]any{"items": []any{
					map[string]any{"code": "a"}, map[string]any{"code": "b"}, map[string]any{"code": "c"}}}, 400, "items", `Option "d" cannot be removed`},
				{"no active option", "PUT", "/api/v1/settings/options/levels", map[string]any{"items": []any{
					map[string]any{"code": "a", "active": false}, map[string]any{"code": "b", "active": false},
					map[string]any{"code": "c", "active": false}, map[string]any{"code": "d", "active": false}}}, 400, "items", "at least one active"},
				{"code renamed", "PATCH", "/api/v1/settings/options/sources/website", map[string]any{"code": "web"}, 400, "code", "cannot change"},
				{"unknown list", "GET", "/api/v1/settings/options/colours", nil, 404, "", ""},
				{"unknown option", "PATCH", "/api/v1/settings/options/sources/nope", map[string]any{"active": false}, 404, "", ""},
				{"role without a name", "POST", "/api/v1/roles", map[string]any{"name": " ", "data_scope": "self"}, 400, "name", "Required"},
				{"unknown field visibility", "POST", "/api/v1/roles", map[string]any{"name": "字段测试", "data_scope": "self",
					"field_policy": map[string]any{"customer.salary": "hidden"}}, 400, "field_policy", "Unknown field"},
				{"unknown field mode", "POST", "/api/v1/roles", map[string]any{"name": "字段测试", "data_scope": "self",
					"field_policy": map[string]any{"customer.phone": "blurred"}}, 400, "field_policy", "Unknown field visibility"},
			}
			// The other settings pages refuse nonsense too (their own editors).
			var rules map[string]any
			admin.Do("GET", "/api/v1/pool/rules", nil, &rules)
			cases = append(cases,
				badCase{"empty stage list", "PUT", "/api/v1/opportunity-stages", map[string]any{"stages": []any{}}, 400, "stages", ""},
				badCase{"negative reclaim period", "PUT", "/api/v1/pool/rules", map[string]any{"max_owned": 0, "claim_cooldown_days": 0,
					"warn_days": 0, "no_follow_days": map[string]int{}, "no_follow_days_default": 0, "no_deal_days": -1,
					"reclaim_enabled": true, "version": rules["version"]}, 400, "no_deal_days", ""})
			admin.Lang = "en"
			for _, tc := range cases {
				var e errJSON
				st := admin.Do(tc.method, tc.path, tc.body, &e)
				if st != tc.status {
					t.Errorf("%s: status %d, want %d (%+v)", tc.name, st, tc.status, e)
					continue
				}
				if tc.field != "" && !strings.Contains(e.Error.Fields[tc.field], tc.message) {
					t.Errorf("%s: field %s message %q, want it to contain %q (%+v)", tc.name, tc.field, e.Error.Fields[tc.field], tc.message, e.Error.Fields)
				}
			}
			// The Chinese message too.
			admin.Lang = "zh-CN"
			var e errJSON
			admin.Do("PUT", "/api/v1/settings", map[string]any{"timezone": "Mars/Olympus"}, &e)
			if !strings.Contains(e.Error.Fields["timezone"], "未知的时区") {
				t.Errorf("zh-CN message: %+v", e)
			}
			// Several problems at once, and nothing of the valid part applied.
			admin.Do("PUT", "/api/v1/settings", map[string]any{"name": "不会保存", "timezone": "X/Y", "working_days": []int{}}, &e)
			if len(e.Error.Fields) != 2 {
				t.Errorf("all problems at once: %+v", e.Error.Fields)
			}
			if after := getSettings(t, admin); !reflect.DeepEqual(after, before) {
				t.Errorf("settings changed by refused input:\n%+v\n%+v", before, after)
			}
			if after := optionList(t, admin, "sources"); !reflect.DeepEqual(after, beforeSources) {
				t.Errorf("sources changed by refused input")
			}
			var a auditJSON
			admin.Do("GET", "/api/v1/audit?entity=setting", nil, &a)
			if a.Total != 0 {
				t.Errorf("refused input audited: %d", a.Total)
			}
			// The last administrator keeps the admin role.
			ids := roleIDs(t, admin)
			adminID := int64(admin.Me["id"].(float64))
			admin.Lang = "en"
			if st := admin.Do("PUT", fmt.Sprintf("/api/v1/users/%d/roles", adminID), map[string]any{"role_ids": []int64{ids["sales"]}}, &e); st != 409 && st != 400 {
				t.Errorf("removing the last admin: %d %+v", st, e)
			} else if !strings.Contains(e.Error.Message, "last administrator") {
				t.Errorf("last admin message: %+v", e)
			}
		})
	}
}

// TestOptionListsDriveValidation: an option added to a list is accepted at
// once, a retired one is refused for new values but stays valid (and
// shown) on records that have it; /meta/options offers the active ones in
// the reader's language.
func TestOptionListsDriveValidation(t *testing.T) {
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv := apptest.StartOn(t, engine)
			admin, s1 := srv.Login(t, "sim_admin"), srv.Login(t, "sim_s1")
			var old customerJSON
			if st := s1.Do("POST", "/api/v1/customers", map[string]any{"name": "老来源客户", "source": "website"}, &old); st != 201 {
				t.Fatalf("create: %d", st)
			}
			if st := s1.Do("POST", "/api/v1/customers", map[string]any{"name": "新来源", "source": "trade_fair"}, nil); st != 400 {
				t.Fatalf("unknown source accepted before it was added: %d", st)
			}
			var list optionListJSON
			if st := admin.Do("POST", "/api/v1/settings/options/sources", map[string]any{"code": "trade_fair", "label_zh": "广交会", "label_en": "Canton Fair"}, &list); st != 201 {
				t.Fatalf("add option: %d", st)
			}
			if last := list.Items[len(list.Items)-1]; last.Code != "trade_fair" || !last.Active {
				t.Errorf("added option: %+v", last)
			}
			if st := admin.Do("PATCH", "/api/v1/settings/options/sources/website", map[string]any{"active": false, "label_en": "Web site"}, &list); st != 200 {
				t.Fatalf("retire: %d", st)
			}
			if st := s1.Do("POST", "/api/v1/customers", map[string]any{"name": "新来源", "source": "trade_fair"}, nil); st != 201 {
				t.Errorf("new source refused: %d", st)
			}
			var e errJSON
			if st := s1.Do("POST", "/api/v1/customers", map[string]any{"name": "旧来源", "source": "website"}, &e); st != 400 || e.Error.Fields["source"] == "" {
				t.Errorf("retired source accepted on a new customer: %d %+v", st, e)
			}
			// The customer that has it keeps it through an unrelated edit.
			var upd customerJSON
			if st := s1.Do("PATCH", fmt.Sprintf("/api/v1/customers/%d", old.ID), map[string]any{"company": "改了公司", "source": "website", "version": old.Version}, &upd); st != 200 {
				t.Errorf("edit of a customer with a retired source: %d", st)
			}
			var found listJSON
			if st := s1.Do("GET", "/api/v1/customers?source=website&q="+url.QueryEscape("老来源"), nil, &found); st != 200 || found.Total != 1 {
				t.Errorf("filter by a retired source: %d %d", st, found.Total)
			}
			var opts struct {
				Sources         []map[string]string `json:"sources"`
				FollowupMethods []map[string]string `json:"followup_methods"`
				LostReasons     []map[string]string `json:"lost_reasons"`
				Tags            []map[string]string `json:"tags"`
				Retired         []map[string]string `json:"retired"`
			}
			s1.Lang = "en"
			s1.Do("GET", "/api/v1/meta/options", nil, &opts)
			offered := map[string]string{}
			for _, o := range opts.Sources {
				offered[o["value"]] = o["label"]
			}
			if offered["trade_fair"] != "Canton Fair" || offered["website"] != "" || len(opts.FollowupMethods) != 5 || len(opts.LostReasons) == 0 || len(opts.Tags) == 0 {
				t.Errorf("meta options: %+v", opts)
			}
			if len(opts.Retired) != 1 || opts.Retired[0]["value"] != "website" || opts.Retired[0]["label"] != "Web site" {
				t.Errorf("retired: %+v", opts.Retired)
			}
			// Follow-up methods and lost reasons come from their lists too.
			admin.Do("POST", "/api/v1/settings/options/followup_methods", map[string]any{"code": "dingtalk_call", "label_zh": "钉钉电话", "label_en": "DingTalk call"}, nil)
			admin.Do("PATCH", "/api/v1/settings/options/followup_methods/visit", map[string]any{"active": false}, nil)
			at := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
			if st := s1.Do("POST", "/api/v1/followups", map[string]any{"customer_id": old.ID, "followed_at": at, "method": "dingtalk_call", "content": "聊了"}, nil); st != 201 {
				t.Errorf("follow-up with an added method: %d", st)
			}
			if st := s1.Do("POST", "/api/v1/followups", map[string]any{"customer_id": old.ID, "followed_at": at, "method": "visit", "content": "拜访"}, &e); st != 400 || e.Error.Fields["method"] == "" {
				t.Errorf("follow-up with a retired method: %d %+v", st, e)
			}
			var methods struct{ Items []map[string]string }
			s1.Do("GET", "/api/v1/followups/methods", nil, &methods)
			if n := len(methods.Items); n != 5 || methods.Items[n-1]["value"] != "dingtalk_call" {
				t.Errorf("methods: %+v", methods.Items)
			}
			admin.Do("POST", "/api/v1/settings/options/lost_reasons", map[string]any{"code": "budget_cut", "label_zh": "预算被砍", "label_en": "Budget cut"}, nil)
			var stages struct {
				LostReasons []map[string]string `json:"lost_reasons"`
			}
			s1.Do("GET", "/api/v1/opportunity-stages", nil, &stages)
			if n := len(stages.LostReasons); n == 0 || stages.LostReasons[n-1]["value"] != "budget_cut" || stages.LostReasons[n-1]["label"] != "Budget cut" {
				t.Errorf("lost reasons: %+v", stages.LostReasons)
			}
			// The export names a custom option with its label.
			_, rows := exportRows(t, s1, "q="+url.QueryEscape("新来源"))
			if len(rows) != 2 || !slices.Contains(rows[1], "Canton Fair") {
				t.Errorf("export of a custom source: %q", rows)
			}
			// The import accepts the new source by its label in either
			// language and refuses the retired one.
			wb := exceltest.Workbook(t, zhImportHeaders, [][]string{
				{"导入新来源甲", "", "", "", "", "广交会", "", "", "", "", "", ""},
				{"导入新来源乙", "", "", "", "", "Canton Fair", "", "", "", "", "", ""},
				{"导入旧来源", "", "", "", "", "官网", "", "", "", "", "", ""}})
			var job importJSON
			if st := upload(t, admin, wb, true, &job); st != 200 || job.Total != 3 || job.Rejected != 1 || len(job.Problems) != 1 {
				t.Errorf("import with edited sources: %d %+v", st, job)
			}
			// Reorder and rename through the whole-list PUT.
			cur := optionList(t, admin, "levels")
			items := []map[string]any{}
			for i := len(cur.Items) - 1; i >= 0; i-- {
				items = append(items, map[string]any{"code": cur.Items[i].Code})
			}
			items[0]["label_zh"] = "D 普通"
			if st := admin.Do("PUT", "/api/v1/settings/options/levels", map[string]any{"items": items}, &list); st != 200 ||
				list.Items[0].Code != "d" || list.Items[0].LabelZh != "D 普通" || list.Items[3].Code != "a" || list.Items[3].LabelEn == "" {
				t.Errorf("reorder: %d %+v", st, list.Items)
			}
			var a auditJSON
			admin.Do("GET", "/api/v1/audit?entity=setting_option", nil, &a)
			if a.Total != 6 || a.Items[0].EntityName != "levels" {
				t.Errorf("option audit: %d %+v", a.Total, a.Items)
			}
		})
	}
}

// TestCompanyLanguage: the company default applies to a person who chose
// no language; a person's own choice beats it.
func TestCompanyLanguage(t *testing.T) {
	srv := apptest.Start(t)
	admin, s1, s2 := srv.Login(t, "sim_admin"), srv.Login(t, "sim_s1"), srv.Login(t, "sim_s2")
	s2.Do("PATCH", "/api/v1/me", map[string]any{"lang": "zh-CN"}, nil)
	if st := admin.Do("PUT", "/api/v1/settings", map[string]any{"lang": "en"}, nil); st != 200 {
		t.Fatalf("PUT: %d", st)
	}
	var me struct {
		Lang     string `json:"lang"`
		Timezone string `json:"timezone"`
	}
	s1.Do("GET", "/api/v1/me", nil, &me)
	if me.Lang != "en" || me.Timezone != "Asia/Shanghai" {
		t.Errorf("no own choice: %+v, want the company's en", me)
	}
	s2.Do("GET", "/api/v1/me", nil, &me)
	if me.Lang != "zh-CN" {
		t.Errorf("own choice zh-CN: got %q", me.Lang)
	}
	// Server messages without Accept-Language follow the same rule.
	var e errJSON
	s1.Do("POST", "/api/v1/customers", map[string]any{}, &e)
	if e.Error.Fields["name"] != "Required" {
		t.Errorf("company default for messages: %+v", e)
	}
	s2.Do("POST", "/api/v1/customers", map[string]any{}, &e)
	if e.Error.Fields["name"] != "必填" {
		t.Errorf("own choice for messages: %+v", e)
	}
	admin.Do("PUT", "/api/v1/settings", map[string]any{"timezone": "America/New_York"}, nil)
	s1.Do("GET", "/api/v1/me", nil, &me)
	if me.Timezone != "America/New_York" {
		t.Errorf("me timezone: %q", me.Timezone)
	}
}

func pngBytes(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := 0; x < w; x++ {
		for y := 0; y < h; y++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), uint8(x * y), 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestCompanyLogo: an image up to 512 KB is stored and served at the URL the
// settings give; anything else is refused and the logo stays.
func TestCompanyLogo(t *testing.T) {
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv := apptest.StartOn(t, engine)
			admin, s1 := srv.Login(t, "sim_admin"), srv.Login(t, "sim_s1")
			if st, _, _ := download(t, s1, "/api/v1/settings/logo"); st != 404 {
				t.Errorf("no logo yet: %d", st)
			}
			logo := pngBytes(t, 64, 32)
			put := func(c *apptest.Client, file []byte, out any) int {
				body, ctype := multipartBody(t, "logo.png", file)
				return decode(t, c.Raw("PUT", "/api/v1/settings/logo", body, map[string]string{"Content-Type": ctype}), out)
			}
			if st := put(s1, logo, nil); st != 403 {
				t.Errorf("salesperson upload: %d", st)
			}
			var co companyJSON
			if st := put(admin, logo, &co); st != 200 || !strings.HasPrefix(co.LogoURL, "/api/v1/settings/logo?v=") {
				t.Fatalf("upload: %d %+v", st, co)
			}
			st, b, h := download(t, srv.Anonymous(t), co.LogoURL)
			if st != 200 || h.Get("Content-Type") != "image/png" || !bytes.Equal(b, logo) {
				t.Fatalf("served logo: %d %s %d bytes", st, h.Get("Content-Type"), len(b))
			}
			var e errJSON
			admin.Lang = "en"
			if st := put(admin, []byte("<svg xmlns='http://www.w3.org/2000/svg'/>"), &e); st != 400 || !strings.Contains(e.Error.Fields["logo"], "PNG, JPEG or WebP") {
				t.Errorf("svg: %d %+v", st, e)
			}
			big := append(pngBytes(t, 8, 8), make([]byte, 513<<10)...)
			if st := put(admin, big, &e); st != 400 && st != 413 {
				t.Errorf("too large: %d %+v", st, e)
			}
			if _, b, _ := download(t, s1, "/api/v1/settings/logo"); !bytes.Equal(b, logo) {
				t.Error("the logo changed after refused uploads")
			}
			if st := admin.Do("DELETE", "/api/v1/settings/logo", nil, &co); st != 200 || co.LogoURL != "" {
				t.Errorf("delete: %d %+v", st, co)
			}
		})
	}
}

// TestSettingsTwoInstances: two app instances on one MySQL and Redis; a
// change made through one is seen by the other on its very next request
// (settings, option lists and a role's field visibility).
func TestSettingsTwoInstances(t *testing.T) {
	if os.Getenv("CRM_TEST_MYSQL_DSN") == "" || os.Getenv("CRM_TEST_REDIS_ADDR") == "" {
		t.Skip("needs CRM_TEST_MYSQL_DSN and CRM_TEST_REDIS_ADDR")
	}
	a := apptest.StartOn(t, "mysql")
	b := a.Another(t)
	adminA, s1B := a.Login(t, "sim_admin"), b.Login(t, "sim_s1")
	// B reads (and caches) the settings and options first.
	if got := getSettings(t, s1B); got.Name != "" {
		t.Fatalf("initial name %q", got.Name)
	}
	optionList(t, s1B, "sources")
	for i, name := range []string{"甲公司", "乙公司", "丙公司"} {
		if st := adminA.Do("PUT", "/api/v1/settings", map[string]any{"name": name, "quiet_start": fmt.Sprintf("2%d:00", i)}, nil); st != 200 {
			t.Fatalf("PUT on A: %d", st)
		}
		if got := getSettings(t, s1B); got.Name != name || got.QuietStart != fmt.Sprintf("2%d:00", i) {
			t.Fatalf("B after change %d: %+v", i, got)
		}
	}
	adminA.Do("POST", "/api/v1/settings/options/sources", map[string]any{"code": "expo", "label_zh": "博览会", "label_en": "Expo"}, nil)
	if st := s1B.Do("POST", "/api/v1/customers", map[string]any{"name": "博览会客户", "source": "expo"}, nil); st != 201 {
		t.Errorf("B validating against the list edited on A: %d", st)
	}
	// Company() (what reminders and reports call) on B sees it too.
	co, err := b.App.Settings().Company(t.Context())
	if err != nil || co.Name != "丙公司" || co.QuietStart != "22:00" {
		t.Errorf("B Company(): %+v %v", co, err)
	}
	// Field visibility edited on A applies to B's next request.
	ids := roleIDs(t, adminA)
	if st := adminA.Do("PATCH", fmt.Sprintf("/api/v1/roles/%d", ids["sales"]), map[string]any{"field_policy": map[string]string{"customer.phone": "masked"}}, nil); st != 200 {
		t.Fatalf("policy: %d", st)
	}
	var c customerJSON
	s1B.Do("POST", "/api/v1/customers", map[string]any{"name": "两实例", "phone": "13912345678"}, &c)
	if c.Phone != "139****5678" {
		t.Errorf("B masks after A's policy change: %q", c.Phone)
	}
}

// TestSettingsTwoInstancesWithoutRedis: without Redis each instance checks
// the version in the database; two instances on one SQLite file still see
// each other's changes on the next request.
func TestSettingsTwoInstancesWithoutRedis(t *testing.T) {
	a := apptest.StartOn(t, "sqlite")
	b := a.Another(t)
	adminA, s1B := a.Login(t, "sim_admin"), b.Login(t, "sim_s1")
	getSettings(t, s1B)
	adminA.Do("PUT", "/api/v1/settings", map[string]any{"working_days": []int{1, 2, 3}}, nil)
	if got := getSettings(t, s1B); !reflect.DeepEqual(got.WorkingDays, []int{1, 2, 3}) {
		t.Errorf("B: %+v", got)
	}
	adminA.Do("PATCH", "/api/v1/settings/options/levels/d", map[string]any{"active": false}, nil)
	var e errJSON
	if st := s1B.Do("POST", "/api/v1/customers", map[string]any{"name": "D级", "level": "d"}, &e); st != 400 {
		t.Errorf("B accepted a level retired on A: %d", st)
	}
}
