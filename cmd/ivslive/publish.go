package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/ivslive/ivslive/token"
	"github.com/ivslive/ivslive/whip"
)

// publishCmd sends the built-in test pattern to a stage over WHIP, as OBS
// or a browser would: for trying embedded mode, scripts and CI.
func publishCmd(ctx context.Context, args []string, lookup func(string) (string, bool), stdout, stderr io.Writer) error {
	fs := newFlags("publish", `Publish a test pattern (H.264 constrained baseline and Opus, looping) to a
stage over WHIP. With --token, the WHIP URL is the token's whip_url claim
unless --whip-url is given. Without --token, a publisher token for the
master stage is asked of a running ivslive (--server) with the admin key
(--key, else API_SECRET_KEY, else IVSLIVE_DATA_DIR/api-key). Progress goes
to stderr; Ctrl-C (or the end of --duration) ends the session with a DELETE, and a
broadcast started with a token from --server is ended there too.`, stderr)
	whipURL := fs.String("whip-url", "", "WHIP endpoint (default the token's whip_url claim)")
	tok := fs.String("token", "", "publisher participant token (default: ask --server for one)")
	server := fs.String("server", "", "ivslive server to ask for a publisher token (default http://localhost:API_PORT)")
	key := fs.String("key", "", "API key with the admin scope (default API_SECRET_KEY, then IVSLIVE_DATA_DIR/api-key)")
	userID := fs.String("user-id", "ivslive-publish", "userId of the publisher token asked of --server")
	duration := fs.Duration("duration", 0, "how long to publish (0: until interrupted)")
	every := fs.Duration("progress", 2*time.Second, "how often to print progress")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("publish: unexpected argument %q", fs.Arg(0))
	}
	if *duration < 0 || *every <= 0 {
		return errors.New("publish: --duration must be 0 or more and --progress more than 0")
	}
	if *tok == "" {
		cfg, err := loadConfig(lookup)
		if err != nil {
			return err
		}
		if *server == "" {
			*server = fmt.Sprintf("http://localhost:%d", cfg.Port)
		}
		k, err := clientKey(cfg, *key, "publish")
		if err != nil {
			return err
		}
		pid := ""
		if *tok, pid, err = publisherToken(ctx, *server, k, *userID); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "publisher token from %s: participant %s\n", *server, pid)
		// The broadcast this command started ends with it, as the demo
		// page's Stop ends it: the server stops counting a live publisher.
		defer func() {
			end, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := endPublisher(end, *server, k, pid); err != nil {
				fmt.Fprintln(stderr, "warning:", err)
			}
		}()
	}
	if *whipURL == "" {
		claims, err := token.Inspect(*tok)
		if err != nil {
			return fmt.Errorf("publish: --token: %w", err)
		}
		if claims.WHIPURL == "" {
			return errors.New("publish: the token has no whip_url claim: pass --whip-url")
		}
		*whipURL = claims.WHIPURL
	}
	clip, err := whip.TestPattern()
	if err != nil {
		return err
	}
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	states := make(chan webrtc.PeerConnectionState, 8)
	fmt.Fprintf(stderr, "publishing to %s\n", *whipURL)
	pub, err := whip.Publish(ctx, *whipURL, *tok, clip, whip.Options{OnState: func(s webrtc.PeerConnectionState) {
		select {
		case states <- s:
		default: // progress is best effort; never stall pion
		}
	}})
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "session %s\n", pub.Location())
	ticker := time.NewTicker(*every)
	defer ticker.Stop()
	for {
		select {
		case s := <-states:
			fmt.Fprintf(stderr, "state: %s\n", s)
		case <-ticker.C:
			fmt.Fprintln(stderr, progressLine(pub.Stats()))
		case <-pub.Done():
			fmt.Fprintln(stderr, progressLine(pub.Stats()))
			if err := pub.Err(); err != nil {
				return err
			}
			fmt.Fprintln(stdout, "published; session ended (DELETE sent)")
			return nil
		}
	}
}

func progressLine(s whip.Stats) string {
	return fmt.Sprintf("sent video %d packets (%s), audio %d packets (%s); keyframe requests %d",
		s.Video.Packets, kilobytes(s.Video.Bytes), s.Audio.Packets, kilobytes(s.Audio.Bytes), s.PLIs)
}

func kilobytes(n uint64) string { return fmt.Sprintf("%.1f KB", float64(n)/1000) }

// publisherToken asks a server for a publisher token on the master stage
// (POST /api/token/publisher) and returns it with its participant id.
func publisherToken(ctx context.Context, server, key, userID string) (string, string, error) {
	var data struct {
		Token         string `json:"token"`
		ParticipantID string `json:"participantId"`
	}
	if err := postAPI(ctx, server, "/api/token/publisher", key, map[string]string{"userId": userID}, &data); err != nil {
		return "", "", err
	}
	if data.Token == "" {
		return "", "", errors.New("publish: the server's answer has no token")
	}
	return data.Token, data.ParticipantID, nil
}

// endPublisher ends the broadcast of a participant (POST
// /api/token/publisher/end).
func endPublisher(ctx context.Context, server, key, participantID string) error {
	var data struct{}
	return postAPI(ctx, server, "/api/token/publisher/end", key, map[string]string{"participantId": participantID}, &data)
}

// postAPI POSTs JSON to an ivslive route with the key and decodes the
// envelope's data into out; a refusal names the status and the API's code.
func postAPI(ctx context.Context, server, path, key string, in, out any) error {
	body, _ := json.Marshal(in)
	url := strings.TrimRight(server, "/") + path
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Api-Key", key)
	hc := &http.Client{Timeout: 15 * time.Second}
	res, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("publish: POST %s: %w", url, err)
	}
	defer res.Body.Close()
	var env struct {
		Data  json.RawMessage `json:"data"`
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&env); err != nil {
		return fmt.Errorf("publish: POST %s: %d, not the API's envelope: %w", url, res.StatusCode, err)
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("publish: POST %s: %d %s: %s", url, res.StatusCode, env.Error.Code, env.Error.Message)
	}
	if err := json.Unmarshal(env.Data, out); err != nil {
		return fmt.Errorf("publish: POST %s: %w", url, err)
	}
	return nil
}
