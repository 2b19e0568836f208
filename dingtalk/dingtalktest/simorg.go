package dingtalktest

import "time"

// SimulatedOrg is the CRM's simulated organization (internal/seed's
// SimulatedDepartments and SimulatedPeople) in the fake's own types: the
// same department ids and names, the same userids, names, mobiles, titles
// and departments, sim_mgr1 and sim_mgr2 managing their first department,
// and sim_admin as the main admin. E-mails are userid@example.com as the
// seed writes them.
func SimulatedOrg() *Org {
	depts := []Department{
		{ID: 1, Name: "星辰科技（模拟钉钉组织）", ParentID: 0, Order: 0},
		{ID: 2, Name: "销售一部", ParentID: 1, Order: 1, Managers: []string{"sim_mgr1"}},
		{ID: 3, Name: "销售二部", ParentID: 1, Order: 2, Managers: []string{"sim_mgr2"}},
		{ID: 4, Name: "华东组", ParentID: 2, Order: 3},
		{ID: 5, Name: "市场部", ParentID: 1, Order: 4},
	}
	people := []struct {
		id, name, mobile, title string
		depts                   []int64
	}{
		{"sim_admin", "陈静", "13800000001", "系统管理员", []int64{1}},
		{"sim_mgr1", "李强", "13800000002", "销售一部经理", []int64{2}},
		{"sim_mgr2", "赵敏", "13800000003", "销售二部经理", []int64{3}},
		{"sim_s1", "王芳", "13800000004", "销售代表", []int64{2}},
		{"sim_s2", "刘洋", "13800000005", "销售代表", []int64{2}},
		{"sim_s3", "张伟", "13800000006", "销售代表", []int64{4}},
		{"sim_s4", "杨磊", "13800000007", "销售代表", []int64{4}},
		{"sim_s5", "黄丽", "13800000008", "销售代表", []int64{3}},
		{"sim_s6", "周杰", "13800000009", "销售代表", []int64{3}},
		{"sim_s7", "吴霞", "13800000010", "销售代表", []int64{3}},
		{"sim_s8", "郑凯", "13800000011", "大客户销售", []int64{2, 3}},
		{"sim_mk1", "孙悦", "13800000012", "市场专员", []int64{5}},
	}
	hired := time.Date(2024, 3, 1, 9, 0, 0, 0, chinaTime)
	o := &Org{Departments: depts, Admins: []Admin{{UserID: "sim_admin", Level: 1}}}
	for i, p := range people {
		o.Users = append(o.Users, User{
			UserID: p.id, Name: p.name, Mobile: p.mobile, Title: p.title, DeptIDs: p.depts,
			Email: p.id + "@example.com", JobNumber: jobNumber(i + 1), WorkPlace: "上海",
			HiredDate: hired.AddDate(0, i, 0),
		})
	}
	return o
}

func jobNumber(i int) string {
	const digits = "0123456789"
	b := []byte("E0000")
	for p := len(b) - 1; p > 0 && i > 0; p-- {
		b[p] = digits[i%10]
		i /= 10
	}
	return string(b)
}
