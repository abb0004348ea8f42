// Package migrate orders the embedded, numbered .sql migrations of the history
// twins. Each twin applies the pending ones itself, each in a transaction that
// also records it in the schema_migrations table.
package migrate

import (
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

// Migration is one numbered SQL file.
type Migration struct {
	Name string
	SQL  string
}

// Pending returns the migrations in fsys (files named like 001_init.sql) that
// are not in applied, in name order.
func Pending(fsys fs.FS, applied map[string]bool) ([]Migration, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []Migration
	for _, name := range names {
		if applied[name] {
			continue
		}
		if !strings.Contains(name, "_") {
			return nil, fmt.Errorf("migration %s: want a name like 001_init.sql", name)
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", name, err)
		}
		out = append(out, Migration{Name: name, SQL: string(b)})
	}
	return out, nil
}
