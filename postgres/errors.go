package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ivslive/ivslive"
)

// storeError translates a driver error at the adapter's boundary, naming
// the operation:
//   - the database refusing a value (SQLSTATE class 22, data exception, or
//     23, integrity violation, other than a duplicate) is EVALIDATION: the
//     record is at fault, and retrying it can never succeed;
//   - an outage (no connection, a connection lost, a deadline passed, the
//     server shutting down, out of resources, a lock or serialization
//     conflict) is EUNAVAILABLE: the same call may succeed later;
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
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch class := pgErr.Code[:min(2, len(pgErr.Code))]; {
		case pgErr.Code == "23505":
			return wrapped // a duplicate that ON CONFLICT should have absorbed: a bug
		case class == "22" || class == "23":
			return ivslive.ReasonError(ivslive.EVALIDATION, ivslive.RDatabaseRefused).WithCause(wrapped)
		case class == "08" || class == "40" || class == "53" || class == "57" || class == "58" || pgErr.Code == "55P03":
			return unavailable(wrapped)
		}
		return wrapped
	}
	if errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return wrapped // the caller gave up: not an outage
	}
	var (
		netErr     net.Error
		connectErr *pgconn.ConnectError
	)
	if errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) || pgconn.SafeToRetry(err) ||
		errors.As(err, &netErr) || errors.As(err, &connectErr) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return unavailable(wrapped)
	}
	return wrapped
}

func unavailable(err error) error {
	return ivslive.ReasonError(ivslive.EUNAVAILABLE, ivslive.RDatabaseUnavailable).WithCause(err)
}
