package sqlite_test

import (
	"context"
	"testing"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/contract"
	"github.com/ivslive/ivslive/sqlite"
)

func TestHistoryContract(t *testing.T) {
	contract.HistoryStore(t, func(t *testing.T) ivslive.HistoryStore { return openDB(t) },
		func(t *testing.T, h ivslive.HistoryStore) {
			err := h.(*sqlite.DB).Exec(context.Background(), `CREATE TRIGGER `+contract.RefusedText+` BEFORE INSERT ON viewer_sessions
				WHEN NEW.user_id = '`+contract.RefusedUser+`' BEGIN SELECT RAISE(ABORT, '`+contract.RefusedText+`'); END`)
			if err != nil {
				t.Fatal(err)
			}
		})
}
