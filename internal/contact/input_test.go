package contact_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/contact"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/store"
	"github.com/dingcrm/crm/internal/store/storetest"
)

// TestBadContactInput: every kind of bad input is a field problem and
// writes nothing (no contact, no audit entry, no change to the customer).
func TestBadContactInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		s1, s5 := f.actor("sim_s1"), f.actor("sim_s5")
		mine := f.customer(s1, "输入测试")
		gone := f.customer(s1, "已删除客户")
		if err := f.customers.Delete(f.ctx, s1, gone.ID); err != nil {
			t.Fatal(err)
		}
		theirs := f.customer(s5, "别人的客户")
		ok := func(in contact.Input) contact.Input {
			if in.CustomerID == nil {
				in.CustomerID = &mine.ID
			}
			if in.Name == nil {
				in.Name = ptr("正常姓名")
			}
			return in
		}
		bday := func(s string) contact.Opt[string] { return contact.Opt[string]{Set: true, Value: &s} }
		tests := []struct {
			name   string
			in     contact.Input
			fields []string
		}{
			{"no customer", contact.Input{Name: ptr("x")}, []string{"customer_id"}},
			{"unknown customer", ok(contact.Input{CustomerID: ptr(int64(999999))}), []string{"customer_id"}},
			{"negative customer", ok(contact.Input{CustomerID: ptr(int64(-3))}), []string{"customer_id"}},
			{"deleted customer", ok(contact.Input{CustomerID: &gone.ID}), []string{"customer_id"}},
			{"customer out of scope", ok(contact.Input{CustomerID: &theirs.ID}), []string{"customer_id"}},
			{"no name", contact.Input{CustomerID: &mine.ID}, []string{"name"}},
			{"blank name", ok(contact.Input{Name: ptr("  ")}), []string{"name"}},
			{"long name", ok(contact.Input{Name: ptr(strings.Repeat("名", 101))}), []string{"name"}},
			{"control chars", ok(contact.Input{Name: ptr("a\x00b")}), []string{"name"}},
			{"bad phone", ok(contact.Input{Phones: &[]string{"13800001111", "12345"}}), []string{"phones"}},
			{"sql in phone", ok(contact.Input{Phones: &[]string{"1' OR '1'='1"}}), []string{"phones"}},
			{"long phone", ok(contact.Input{Phones: &[]string{strings.Repeat("1", 21)}}), []string{"phones"}},
			{"six phones", ok(contact.Input{Phones: &[]string{"13800000001", "13800000002", "13800000003",
				"13800000004", "13800000005", "13800000006"}}), []string{"phones"}},
			{"birthday not a date", ok(contact.Input{Birthday: bday("生日")}), []string{"birthday"}},
			{"birthday impossible", ok(contact.Input{Birthday: bday("1990-02-30")}), []string{"birthday"}},
			{"birthday a time", ok(contact.Input{Birthday: bday("1990-05-17T00:00:00Z")}), []string{"birthday"}},
			{"birthday ahead", ok(contact.Input{Birthday: bday("2999-01-01")}), []string{"birthday"}},
			{"bad email", ok(contact.Input{Email: ptr("not-an-email")}), []string{"email"}},
			{"spaced wechat", ok(contact.Input{WeChat: ptr("wx id")}), []string{"wechat"}},
			{"long notes", ok(contact.Input{Notes: ptr(strings.Repeat("注", 2001))}), []string{"notes"}},
			{"everything at once", contact.Input{CustomerID: ptr(int64(999999)), Name: ptr(""), Email: ptr("x@"),
				Phones: &[]string{"1"}}, []string{"customer_id", "name", "email", "phones"}},
		}
		contacts0, audit0 := f.count("SELECT COUNT(*) FROM contacts"), f.count("SELECT COUNT(*) FROM audit_log")
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := f.contacts.Create(f.ctx, s1, tt.in)
				var e *errs.Error
				if !errors.As(err, &e) || e.Kind != errs.KindInvalid {
					t.Fatalf("want a validation error, got %v", err)
				}
				for _, field := range tt.fields {
					if e.Fields[field].Key == "" {
						t.Errorf("no problem reported for %s: %v", field, err)
					}
				}
				if len(e.Fields) != len(tt.fields) {
					t.Errorf("problems %v, want exactly %v", err, tt.fields)
				}
			})
		}
		if c1, a1 := f.count("SELECT COUNT(*) FROM contacts"), f.count("SELECT COUNT(*) FROM audit_log"); c1 != contacts0 || a1 != audit0 {
			t.Fatalf("bad input wrote rows: contacts %d→%d, audit %d→%d", contacts0, c1, audit0, a1)
		}
		// Edits: the customer cannot change, the version is required, and a
		// bad field leaves the stored contact as it was.
		c := f.contact(s1, ok(contact.Input{}))
		edits := []struct {
			name  string
			in    contact.Input
			field string
		}{
			{"no version", contact.Input{Name: ptr("x")}, "version"},
			{"move customer", contact.Input{Version: &c.Version, CustomerID: &theirs.ID}, "customer_id"},
			{"bad phone", contact.Input{Version: &c.Version, Phones: &[]string{"abc"}}, "phones"},
			{"blank name", contact.Input{Version: &c.Version, Name: ptr("")}, "name"},
		}
		for _, tt := range edits {
			_, err := f.contacts.Update(f.ctx, s1, c.ID, tt.in)
			if e := new(errs.Error); !errors.As(err, &e) || e.Fields[tt.field].Key == "" {
				t.Errorf("%s: want a problem with %s, got %v", tt.name, tt.field, err)
			}
		}
		if again, err := f.contacts.Get(f.ctx, s1, c.ID); err != nil || again.Version != 1 || again.Name != "正常姓名" {
			t.Fatalf("a refused edit changed the contact: %v %+v", err, again)
		}
	})
}

// TestContactPermissions: each action needs its permission (403), checked
// before anything is read or written.
func TestContactPermissions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		s1 := f.actor("sim_s1")
		cu := f.customer(s1, "权限测试")
		c := f.contact(s1, contact.Input{CustomerID: &cu.ID, Name: ptr("权限联系人")})
		for _, missing := range []auth.Perm{contact.PermView, contact.PermCreate, contact.PermEdit, contact.PermDelete} {
			a := *s1
			a.Perms = map[auth.Perm]bool{}
			for p := range s1.Perms {
				if p != missing {
					a.Perms[p] = true
				}
			}
			var err error
			switch missing {
			case contact.PermView:
				_, _, err = f.contacts.List(f.ctx, &a, contact.Filter{})
				if errors.Is(err, errs.ErrForbidden) {
					_, err = f.contacts.Get(f.ctx, &a, c.ID)
				}
			case contact.PermCreate:
				_, err = f.contacts.Create(f.ctx, &a, contact.Input{CustomerID: &cu.ID, Name: ptr("x")})
			case contact.PermEdit:
				_, err = f.contacts.Update(f.ctx, &a, c.ID, contact.Input{Version: &c.Version, Name: ptr("x")})
			case contact.PermDelete:
				err = f.contacts.Delete(f.ctx, &a, c.ID)
			}
			if !errors.Is(err, errs.ErrForbidden) {
				t.Errorf("without %s: %v, want forbidden", missing, err)
			}
		}
		if n := f.count("SELECT COUNT(*) FROM contacts WHERE deleted_at IS NULL AND name = '权限联系人' AND version = 1"); n != 1 {
			t.Error("a forbidden call changed the contact")
		}
	})
}
