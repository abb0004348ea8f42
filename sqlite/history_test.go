package sqlite_test

import (
	"testing"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/contract"
)

func TestHistoryContract(t *testing.T) {
	contract.HistoryStore(t, func(t *testing.T) ivslive.HistoryStore { return openDB(t) })
}
