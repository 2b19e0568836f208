package main

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/seed"
)

// row is one customer as the bulk loader writes it.
type row struct {
	id                         int64
	name, phone, company, addr string
	industry, source           string
	level, status, tags        string
	owner                      owner
	nextFollow, lastFollow     *time.Time
	created, updated           time.Time
	searchText                 string
}

// latinBrands give a few companies a Latin trading name, as real customer
// lists have, so a Latin query has something to find.
var latinBrands = []string{"Apex", "Nova", "Sunrise", "Orient", "Zenith", "Vertex", "Lumen", "Acme"}

var tagChoices = []string{`["重点"]`, `["老客户"]`, `["转介绍"]`, `["待报价"]`}

// genRows makes the customers with ids first..first+n-1. The generator is
// seeded by the first id, so the data does not depend on which worker
// loads which chunk, and a rerun loads the same customers.
func genRows(first int64, n int, owners []owner, now time.Time) []row {
	r := rand.New(rand.NewPCG(20261127, uint64(first)))
	rows := make([]row, n)
	for i := range rows {
		rows[i] = genRow(r, first+int64(i), owners, now)
	}
	return rows
}

func genRow(r *rand.Rand, id int64, owners []owner, now time.Time) row {
	company := seed.Company(r)
	city := cityOf(company)
	if r.IntN(50) == 0 {
		company = latinBrands[r.IntN(len(latinBrands))] + " " + company
	}
	c := row{
		id: id, name: seed.Person(r), phone: seed.Mobile(r), company: company,
		addr:     fmt.Sprintf("%s市高新区创业路%d号", city, r.IntN(300)+1),
		industry: pick(r, customer.Industries), source: pick(r, customer.Sources),
		level: pick(r, customer.Levels), status: pick(r, customer.Statuses), tags: "[]",
		owner: owners[r.IntN(len(owners))],
	}
	if r.IntN(2) == 0 {
		c.tags = pick(r, tagChoices)
	}
	// Three years of history: created, then touched some time after.
	c.created = now.Add(-time.Duration(r.Int64N(int64(3 * 365 * 24 * time.Hour)))).Truncate(time.Millisecond)
	c.updated = c.created.Add(time.Duration(r.Int64N(int64(now.Sub(c.created)) + 1))).Truncate(time.Millisecond)
	if r.IntN(2) == 0 {
		c.lastFollow = &c.updated
	}
	if r.IntN(3) > 0 {
		next := now.Add(time.Duration(r.IntN(30*24)-7*24) * time.Hour)
		c.nextFollow = &next
	}
	c.searchText = customer.SearchText(c.name, c.company, c.phone)
	return c
}

func pick(r *rand.Rand, list []string) string { return list[r.IntN(len(list))] }

// cityOf returns the city a generated company name starts with.
func cityOf(company string) string {
	for _, c := range seed.Cities {
		if strings.HasPrefix(company, c) {
			return c
		}
	}
	return ""
}
