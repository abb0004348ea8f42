package http_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha512"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/apitest"
)

// BenchmarkViewerToken measures POST /api/token/viewer in key-pair mode
// (a new viewer each time: seat, ES384 token, session token, envelope)
// through the whole handler stack, next to its floor: a bare P-384
// signature (ecdsa.SignASN1 of a SHA-384 digest), the part no server can
// skip.
func BenchmarkViewerToken(b *testing.B) {
	b.Run("route", func(b *testing.B) {
		env := apitest.New(b, apitest.Options{Live: apitestCapacity(1 << 30)})
		env.Must(b, 200, "POST", "/api/token/publisher", map[string]string{"userId": "host"})
		h := env.Server.Handler()
		var next atomic.Int64
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if !postOK(b, h, "/api/token/viewer", fmt.Appendf(nil, `{"userId":"viewer-%d"}`, next.Add(1))) {
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
	})
	b.Run("floor-sign", func(b *testing.B) {
		key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		digest := sha512.Sum384([]byte(strings.Repeat("x", 600))) // a token's signing input is about this long
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := ecdsa.SignASN1(rand.Reader, key, digest[:]); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
	})
}

// BenchmarkStats measures GET /api/stats through the handler stack with
// 1,000, 100,000 and 1,000,000 viewers seated over 6 stages: the answer is
// read from per-stage counts, so it does not grow with the audience.
func BenchmarkStats(b *testing.B) {
	for _, n := range []int{1_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			env := apitest.New(b, apitest.Options{Live: apitestCapacity(1 << 30)})
			ctx := context.Background()
			for i := range 5 {
				env.Must(b, 201, "POST", "/api/stage", map[string]string{"name": fmt.Sprint("bench-", i)})
			}
			now := time.Now()
			for i := range n {
				u := fmt.Sprint("v", i)
				if _, err := env.Live.Presence.Join(ctx, ivslive.JoinRequest{UserID: u, SessionID: "s" + u, Now: now,
					Threshold: 1 << 30, Capacity: 1 << 30}); err != nil {
					b.Fatal(err)
				}
			}
			h := env.Server.Handler()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, "/api/stats", nil)
				req.Header.Set("X-Api-Key", apitest.Key)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), fmt.Sprintf(`"totalViewers":%d`, n)) {
					b.Fatalf("status %d: %.300s", rec.Code, rec.Body)
				}
			}
		})
	}
}
