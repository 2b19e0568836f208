package customer

import (
	"strings"
	"unicode"
)

// Keyword search matches any part of a customer's name, company or phone,
// or of its contacts' names and phones (the extra fields of reindex.go).
// It is defined as a plain substring test on search_text (the lower-cased
// fields joined by a separator no query can contain), so its results are
// exactly those of a LIKE '%q%' scan. To be fast it first narrows the
// candidates with an index of character bigrams and 4-digit grams
// (customer_grams), then runs the exact substring test on those candidates
// only.

// fieldSep separates the fields inside search_text, so no match spans two.
const fieldSep = "\x1f"

// maxQueryGrams bounds the index joins for a long query; the exact
// substring test on the candidates keeps the result correct.
const maxQueryGrams = 4

// searchText builds the stored text that keyword search matches.
func searchText(c *Customer) string {
	return strings.ToLower(c.Name) + fieldSep + strings.ToLower(c.Company) + fieldSep + digits(c.Phone)
}

func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// NormalizeQuery turns what a person typed into the string search_text is
// tested against: lower case, no control characters, and for something that
// looks like a phone number (digits with spaces, dashes, plus or brackets)
// just its digits, since phones are indexed by their digits.
func NormalizeQuery(q string) string {
	q = strings.TrimSpace(strings.ToLower(q))
	q = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, q)
	if phoneLike(q) {
		return digits(q)
	}
	return q
}

func phoneLike(q string) bool {
	n := 0
	for _, r := range q {
		switch {
		case r >= '0' && r <= '9':
			n++
		case strings.ContainsRune(" -+()", r):
		default:
			return false
		}
	}
	return n >= 2
}

// gram packs two characters into one integer (runes fit in 21 bits).
func gram(a, b rune) int64 { return int64(a)<<21 | int64(b) }

// Digits are also indexed four at a time. Digit bigrams are poor filters:
// there are only a hundred of them and each is in about one phone in ten,
// so a search for the last four digits of a phone would read a tenth of the
// index. A run of four digits is in about one phone in 1,250.
const (
	digitGramLen = 4
	// digitGramTag sets these grams apart from bigrams, which stay below
	// 1<<42, and from each other (the digits are the low bits).
	digitGramTag int64 = 1 << 42
)

// textGrams returns the distinct index grams of every field of a
// search_text: its bigrams, and the 4-digit grams of its runs of digits.
func textGrams(text string) []int64 {
	seen := map[int64]bool{}
	var out []int64
	add := func(g int64) {
		if !seen[g] {
			seen[g] = true
			out = append(out, g)
		}
	}
	for _, field := range strings.Split(text, fieldSep) {
		rs := []rune(field)
		for i := 0; i+1 < len(rs); i++ {
			add(gram(rs[i], rs[i+1]))
		}
		for _, g := range digitGrams(rs) {
			add(g)
		}
	}
	return out
}

// digitGrams returns the 4-digit grams of every run of ASCII digits in rs,
// in order (with repeats).
func digitGrams(rs []rune) []int64 {
	var out []int64
	run := 0 // length of the run of digits ending at i
	for i, r := range rs {
		if r < '0' || r > '9' {
			run = 0
			continue
		}
		run++
		if run >= digitGramLen {
			var n int64
			for _, d := range rs[i-digitGramLen+1 : i+1] {
				n = n*10 + int64(d-'0')
			}
			out = append(out, digitGramTag|n)
		}
	}
	return out
}

// Grams returns the distinct index grams of a search text, exactly the
// index rows InsertGrams writes for it (for bulk loaders that batch many
// customers into one statement).
func Grams(text string) []int64 { return textGrams(text) }

// queryGrams picks up to maxQueryGrams index grams of a normalized query,
// spread across it (first, last, and evenly between), since together they
// narrow the candidates most. A query of four or more digits only (a phone
// or part of one) uses 4-digit grams; anything else uses bigrams.
func queryGrams(q string) []int64 {
	all := textGrams(q)
	if rs := []rune(q); len(rs) >= digitGramLen && allDigits(rs) {
		all = distinct(digitGrams(rs))
	}
	if len(all) <= maxQueryGrams {
		return all
	}
	out := make([]int64, 0, maxQueryGrams)
	for i := 0; i < maxQueryGrams; i++ {
		out = append(out, all[i*(len(all)-1)/(maxQueryGrams-1)])
	}
	return out
}

func allDigits(rs []rune) bool {
	for _, r := range rs {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func distinct(grams []int64) []int64 {
	seen := map[int64]bool{}
	out := grams[:0]
	for _, g := range grams {
		if !seen[g] {
			seen[g] = true
			out = append(out, g)
		}
	}
	return out
}
