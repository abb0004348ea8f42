package postgres_test

import (
	"context"
	"testing"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/contract"
	"github.com/ivslive/ivslive/postgres"
)

func TestHistoryContract(t *testing.T) {
	contract.HistoryStore(t, func(t *testing.T) ivslive.HistoryStore { return openDB(t) },
		func(t *testing.T, h ivslive.HistoryStore) {
			err := h.(*postgres.DB).Exec(context.Background(), `ALTER TABLE viewer_sessions ADD CONSTRAINT `+contract.RefusedText+
				` CHECK (user_id <> '`+contract.RefusedUser+`')`)
			if err != nil {
				t.Fatal(err)
			}
		})
}
