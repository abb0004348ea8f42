//go:build unix

package emulator

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"

	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/internal/whiptest"
	"github.com/ivslive/ivslive/ivs/emulator/media"
)

// fanoutEnv marks the benchmark's client process, which reads its
// fanoutPlan from stdin (200 tokens are too long for the environment).
const fanoutEnv = "IVSLIVE_FANOUT_CLIENTS"

// fanoutPlan is what the client process needs: where to publish and
// subscribe, and with which tokens.
type fanoutPlan struct {
	WHIP        string   `json:"whip"`
	PublisherID string   `json:"publisherId"`
	Publisher   string   `json:"publisher"`
	Subscribers []string `json:"subscribers"`
	Seconds     float64  `json:"seconds"`
	FrameBytes  int      `json:"frameBytes"`
	PaceBitrate int      `json:"paceBitrate"`
}

// fanoutResult is what the client process measured over the window.
type fanoutResult struct {
	Sent     uint64  `json:"sent"`
	Received uint64  `json:"received"`
	Seconds  float64 `json:"seconds"`
	P50      float64 `json:"p50Ms"`
	P99      float64 `json:"p99Ms"`
	Max      float64 `json:"maxMs"`
}

// BenchmarkFanout sends one publisher's synthetic 30 fps video (about
// 1.5 Mbit/s) and Opus-sized audio through the emulator to N subscribers,
// all on loopback. The publisher and subscribers run in a child process (the
// test binary again, TestFanoutClients), so the CPU this process uses is
// the emulator's alone. Reported over a 3 s window once every subscriber
// receives media:
//
//	server-cpu-ms/s/sub  emulator CPU per second of media, per subscriber
//	fwd-pkts/s           RTP packets the subscribers received per second
//	delivered-%          received / (sent × N)
//	p50-ms, p99-ms       publisher send to subscriber receive, both clients'
//	                     SRTP and two loopback hops included
//
// go test -run '^$' -bench Fanout -benchtime 1x ./ivs/emulator
func BenchmarkFanout(b *testing.B) {
	for _, pace := range []struct {
		name string
		bps  int
	}{{"paced", 3_750_000}, {"bursts", 0}} {
		for _, n := range []int{1, 50, 100, 200} {
			b.Run(fmt.Sprintf("%s/subscribers=%d", pace.name, n), func(b *testing.B) {
				for range b.N {
					benchFanout(b, n, pace.bps)
				}
			})
		}
	}
}

func benchFanout(b *testing.B, n, paced int) {
	em, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	delays := &media.Delays{}
	em.mediaDelays = delays
	srv := httptest.NewServer(em)
	defer func() {
		srv.Close()
		em.Close()
	}()
	h := &harness{em: em, srv: srv, client: newClient(srv.URL, 1)}
	st, err := h.client.CreateStage(b.Context(), &ivsrealtime.CreateStageInput{})
	if err != nil {
		b.Fatal(err)
	}
	mint := func(c types.ParticipantTokenCapability) (string, string) {
		out, err := h.client.CreateParticipantToken(b.Context(), &ivsrealtime.CreateParticipantTokenInput{
			StageArn: st.Stage.Arn, Capabilities: []types.ParticipantTokenCapability{c}})
		if err != nil {
			b.Fatal(err)
		}
		return aws.ToString(out.ParticipantToken.ParticipantId), aws.ToString(out.ParticipantToken.Token)
	}
	plan := fanoutPlan{WHIP: h.whipURL(st.Stage), Seconds: 3, FrameBytes: 6000, PaceBitrate: paced}
	plan.PublisherID, plan.Publisher = mint(types.ParticipantTokenCapabilityPublish)
	for range n {
		_, tok := mint(types.ParticipantTokenCapabilitySubscribe)
		plan.Subscribers = append(plan.Subscribers, tok)
	}
	raw, err := json.Marshal(plan)
	if err != nil {
		b.Fatal(err)
	}
	// The clients are the load generator: niced and on one core, so that on
	// a small machine the server has the CPU it needs first. What they
	// cannot keep up with is lost in their sockets, which the server's own
	// counts tell apart.
	cmd := exec.CommandContext(b.Context(), "nice", "-n", "10", os.Args[0], "-test.run=^TestFanoutClients$", "-test.v")
	cmd.Env = append(os.Environ(), fanoutEnv+"=1", "GOMAXPROCS=1")
	cmd.Stdin = bytes.NewReader(raw)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	var cpu0, cpu1 time.Duration
	var forward, socket []time.Duration
	var drops0, drops1, sent0, sent1 uint64
	var result fanoutResult
	var said []string // the client's other output, for a failure
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		line := lines.Text()
		switch {
		default:
			said = append(said, line)
		case line == "FANOUT-READY":
			cpu0 = processCPU(b)
			delays.Reset()
			drops0, sent0 = em.engine.Dropped(), em.engine.Sent()
		case strings.HasPrefix(line, "FANOUT-RESULT "):
			cpu1 = processCPU(b)
			forward, socket = delays.Quantiles(0.5, 0.99)
			drops1, sent1 = em.engine.Dropped(), em.engine.Sent()
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "FANOUT-RESULT ")), &result); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := cmd.Wait(); err != nil || result.Seconds == 0 {
		b.Fatalf("client process: %v (result %+v):\n%s", err, result, strings.Join(said[max(0, len(said)-20):], "\n"))
	}
	var clientCPU time.Duration
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		clientCPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	b.Logf("client process: %v of CPU in %v, setup included", clientCPU, cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
	cpuPerSec := (cpu1 - cpu0).Seconds() / result.Seconds
	b.ReportMetric(cpuPerSec*1000/float64(n), "server-cpu-ms/s/sub")
	b.ReportMetric(float64(sent1-sent0)/result.Seconds, "server-out-pkts/s")
	b.ReportMetric(100*float64(drops1-drops0)/float64(result.Sent*uint64(n)), "server-dropped-%")
	b.ReportMetric(100*float64(result.Received)/float64(result.Sent*uint64(n)), "received-%")
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	b.ReportMetric(ms(forward[0]+socket[0]), "hop-p50-ms")
	b.ReportMetric(ms(forward[1]+socket[1]), "hop-p99-ms")
	b.ReportMetric(result.P50, "e2e-p50-ms")
	b.ReportMetric(result.P99, "e2e-p99-ms")
	b.Logf("%d subscribers: server CPU %.1f%% of one core, %.0f packets/s sent, %d dropped by the server, %.0f/s received by the clients; in the server: forward p50 %.3f p99 %.3f ms, socket queue p50 %.3f p99 %.3f ms; client to client p50 %.2f p99 %.2f max %.2f ms",
		n, 100*cpuPerSec, float64(sent1-sent0)/result.Seconds, drops1-drops0, float64(result.Received)/result.Seconds, ms(forward[0]), ms(forward[1]), ms(socket[0]), ms(socket[1]), result.P50, result.P99, result.Max)
}

// processCPU returns the user and system CPU time this process used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestFanoutClients is BenchmarkFanout's client process; run alone, it
// skips.
func TestFanoutClients(t *testing.T) {
	if os.Getenv(fanoutEnv) == "" {
		t.Skip("the client side of BenchmarkFanout")
	}
	var plan fanoutPlan
	if err := json.NewDecoder(os.Stdin).Decode(&plan); err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 30 * time.Second}
	pub, err := whiptest.NewPublisher(whiptest.PublishOptions{Stamp: true, FrameBytes: plan.FrameBytes, PaceBitrate: plan.PaceBitrate})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	if resp, err := pub.Connect(t.Context(), client, plan.WHIP, plan.Publisher); err != nil || resp.Status != http.StatusCreated {
		t.Fatalf("publish: %v %+v", err, resp)
	}
	subs := make([]*whiptest.Subscriber, len(plan.Subscribers))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	errs := make(chan error, len(subs))
	for i, tok := range plan.Subscribers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			// 404 until the publisher's first packet is in: try again.
			var fail error
			testenv.Poll(30*time.Second, func() bool {
				sub, err := whiptest.NewSubscriber(whiptest.Codecs{}, true)
				if err != nil {
					fail = err
					return true
				}
				resp, err := sub.Connect(t.Context(), client, plan.WHIP+"/subscribe/"+plan.PublisherID, tok)
				if err == nil && resp.Status == http.StatusCreated {
					subs[i] = sub
					return true
				}
				sub.Close()
				fail = fmt.Errorf("subscribe: %v %+v", err, resp)
				// Only a publisher not there yet (404) is worth another try.
				return err != nil || resp.Status != http.StatusNotFound
			})
			if subs[i] == nil {
				errs <- fail
			}
		}()
	}
	wg.Wait()
	close(errs)
	defer func() {
		for _, s := range subs {
			if s != nil {
				s.Close()
			}
		}
	}()
	for err := range errs {
		t.Fatal(err)
	}
	testenv.Eventually(t, 30*time.Second, "media at every subscriber", func() bool {
		for _, s := range subs {
			if _, _, video := s.Received(); video == 0 {
				return false
			}
		}
		return true
	})
	for _, s := range subs {
		s.ResetStats()
	}
	pub.ResetStats()
	fmt.Println("FANOUT-READY")
	start := time.Now()
	time.Sleep(time.Duration(plan.Seconds * float64(time.Second))) // the measuring window of a real-time stream
	res := fanoutResult{Sent: pub.Sent(), Seconds: time.Since(start).Seconds()}
	var lat []time.Duration
	for _, s := range subs {
		packets, _, _ := s.Received()
		res.Received += packets
		lat = append(lat, s.Latencies()...)
	}
	slices.Sort(lat)
	if len(lat) > 0 {
		ms := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))]) / 1e6 }
		res.P50, res.P99, res.Max = ms(0.5), ms(0.99), ms(1)
	}
	b, _ := json.Marshal(res)
	fmt.Println("FANOUT-RESULT " + string(b))
}
