package postgres

import "context"

// Exec runs a statement outside the store's API, for tests that shape the
// schema (a constraint that refuses records) or hold locks.
func (d *DB) Exec(ctx context.Context, sql string) error {
	_, err := d.pool.Exec(ctx, sql)
	return err
}
