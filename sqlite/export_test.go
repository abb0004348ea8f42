package sqlite

import "context"

// Exec runs a statement outside the store's API, for tests that shape the
// schema (a trigger that refuses records).
func (d *DB) Exec(ctx context.Context, sql string) error {
	_, err := d.db.ExecContext(ctx, sql)
	return err
}
