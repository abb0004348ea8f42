package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/ivslive/ivslive"
)

// storeError translates a driver error at the adapter's boundary, naming
// the operation, as the postgres twin does:
//   - a constraint, a value too big or of the wrong type is EVALIDATION:
//     the record is at fault, and retrying it can never succeed;
//   - a database locked beyond its busy timeout, an I/O error, a full disk,
//     an interrupted statement or a passed deadline is EUNAVAILABLE: the
//     same call may succeed later;
//   - anything else stays an internal error.
func storeError(op string, err error) error {
	if err == nil {
		return nil
	}
	wrapped := fmt.Errorf("%s: %w", op, err)
	var known *ivslive.Error
	if errors.As(err, &known) {
		return wrapped
	}
	var e *sqlite.Error
	if errors.As(err, &e) {
		switch e.Code() & 0xff {
		case sqlite3.SQLITE_CONSTRAINT, sqlite3.SQLITE_TOOBIG, sqlite3.SQLITE_MISMATCH, sqlite3.SQLITE_RANGE:
			return ivslive.ReasonError(ivslive.EVALIDATION, ivslive.RDatabaseRefused).WithCause(wrapped)
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL,
			sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_INTERRUPT, sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_PROTOCOL, sqlite3.SQLITE_READONLY:
			return unavailable(wrapped)
		}
		return wrapped
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) {
		return unavailable(wrapped)
	}
	return wrapped
}

func unavailable(err error) error {
	return ivslive.ReasonError(ivslive.EUNAVAILABLE, ivslive.RDatabaseUnavailable).WithCause(err)
}
