package main

import (
	"fmt"
	"hash/fnv"
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
	phoneKey, nameKey          string
}

// latinBrands give a few companies a Latin trading name, as real customer
// lists have, so a Latin query has something to find.
var latinBrands = []string{"Apex", "Nova", "Sunrise", "Orient", "Zenith", "Vertex", "Lumen", "Acme"}

var tagChoices = []string{`["重点"]`, `["老客户"]`, `["转介绍"]`, `["待报价"]`}

// generator makes the benchmark's customers. Each chunk's random source is
// seeded by its first id, so the data does not depend on which worker loads
// which chunk, and a rerun loads the same customers.
type generator struct {
	owners []owner
	now    time.Time
	// renamed holds the phone and name given to the few customers whose
	// generated ones another customer already had (see uniqueKeys).
	renamed map[int64][2]string
}

func (g *generator) rows(first int64, n int) []row {
	r := rand.New(rand.NewPCG(20261127, uint64(first)))
	rows := make([]row, n)
	for i := range rows {
		rows[i] = g.row(r, first+int64(i))
	}
	return rows
}

func (g *generator) row(r *rand.Rand, id int64) row {
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
		owner: g.owners[r.IntN(len(g.owners))],
	}
	if r.IntN(2) == 0 {
		c.tags = pick(r, tagChoices)
	}
	// Three years of history: created, then touched some time after.
	c.created = g.now.Add(-time.Duration(r.Int64N(int64(3 * 365 * 24 * time.Hour)))).Truncate(time.Millisecond)
	c.updated = c.created.Add(time.Duration(r.Int64N(int64(g.now.Sub(c.created)) + 1))).Truncate(time.Millisecond)
	if r.IntN(2) == 0 {
		c.lastFollow = &c.updated
	}
	if r.IntN(3) > 0 {
		next := g.now.Add(time.Duration(r.IntN(30*24)-7*24) * time.Hour)
		c.nextFollow = &next
	}
	if fix, ok := g.renamed[id]; ok {
		c.phone, c.name = fix[0], fix[1]
	}
	c.searchText = customer.SearchText(c.name, c.company, c.phone)
	c.phoneKey, c.nameKey = customer.PhoneKey(c.phone), customer.NameKey(c.name, c.company)
	return c
}

// uniqueKeys generates every customer once, in id order, and renames the
// few (a few hundred in a million) whose phone, or name with company,
// an earlier one already has: the CRM refuses such duplicates, so a real
// customer base has none. Keys are remembered by 64-bit hash to keep the
// pass small; a hash collision only renames one customer needlessly.
func (g *generator) uniqueKeys(total, batch int) {
	g.renamed = map[int64][2]string{}
	phones, names := map[uint64]bool{}, map[uint64]bool{}
	for first := 1; first <= total; first += batch {
		for _, c := range g.rows(int64(first), min(batch, total-first+1)) {
			r := rand.New(rand.NewPCG(uint64(c.id), 7))
			phone, name := c.phone, c.name
			for phones[hash(customer.PhoneKey(phone))] {
				phone = seed.Mobile(r)
			}
			for names[hash(customer.NameKey(name, c.company))] {
				name = seed.Person(r)
			}
			phones[hash(customer.PhoneKey(phone))], names[hash(customer.NameKey(name, c.company))] = true, true
			if phone != c.phone || name != c.name {
				g.renamed[c.id] = [2]string{phone, name}
			}
		}
	}
}

func hash(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
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
