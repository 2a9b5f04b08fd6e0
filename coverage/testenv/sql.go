package testenv

import (
	"database/sql"
	"fmt"
	"math"
	"strings"
	"testing"
)

// Rows runs q on db and returns its rows as text, columns joined by '|',
// blobs in hex and floats with their bits, so that two files can be
// compared exactly, row by row.
func Rows(t testing.TB, db *sql.DB, q string, args ...any) []string {
	t.Helper()
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for i, v := range vals {
			if i > 0 {
				b.WriteByte('|')
			}
			switch v := v.(type) {
			case []byte:
				fmt.Fprintf(&b, "%x", v)
			case float64:
				fmt.Fprintf(&b, "%v(%x)", v, math.Float64bits(v))
			default:
				fmt.Fprintf(&b, "%v", v)
			}
		}
		out = append(out, b.String())
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
