package emulator

import (
	"crypto/ecdsa"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Playback of a channel, as IVS's playback URL serves it: GET
// /playback/{channelId}.m3u8 is the live media playlist, and
// /playback/{channelId}/{n}.ts its segments. A private (authorized)
// channel answers only a request whose ?token= is a playback token ("Generate
// and Sign IVS Playback Tokens"): an ES384 JWT signed by a playback key
// pair imported into the Region, with aws:channel-arn naming the channel
// and exp in the future. IVS checks the token on the playlist; the emulator
// checks it on segments too (the playlist's segment URIs carry it), which
// is stricter, never looser. The playback path needs no AWS signature: the
// API server mounts it outside its guard, like WHIP.
func (e *Emulator) servePlayback(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	rest := strings.TrimPrefix(r.URL.Path, playbackPrefix)
	id, segName, isSegment := strings.Cut(rest, "/")
	if !isSegment {
		var ok bool
		if id, ok = strings.CutSuffix(rest, ".m3u8"); !ok {
			http.NotFound(w, r)
			return
		}
	}
	e.mu.Lock()
	var ch *channel
	for _, c := range e.state.Channels {
		if c.ID == id {
			ch = c
			break
		}
	}
	stream := e.playback[id]
	var keys []*ecdsa.PublicKey
	if ch != nil && ch.Authorized {
		for _, k := range e.state.PlaybackKeys {
			if pub, err := parseP384(strings.TrimSpace(k.Material)); err == nil {
				keys = append(keys, pub)
			}
		}
	}
	e.mu.Unlock()

	// Viewers reach the playback URL from web pages on other origins, and
	// a player should see a refusal as one, not as a CORS failure.
	w.Header().Set("Access-Control-Allow-Origin", "*")
	if ch == nil {
		http.NotFound(w, r)
		return
	}
	token := r.URL.Query().Get("token")
	if ch.Authorized {
		if err := verifyPlaybackToken(token, ch.Arn, keys, e.now); err != nil {
			e.log.Debug("ivs emulator: playback refused", "channel", ch.Arn, "err", err)
			http.Error(w, "playback token refused", http.StatusForbidden)
			return
		}
	}
	if stream == nil {
		http.Error(w, "the channel is offline", http.StatusNotFound)
		return
	}
	if isSegment {
		data, ok := stream.Segment(segName)
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "video/mp2t")
		w.Header().Set("Cache-Control", "max-age=60")
		_, _ = w.Write(data)
		return
	}
	query := ""
	if ch.Authorized {
		query = "?token=" + token
	}
	playlist, ok := stream.Playlist(id+"/", query)
	if !ok {
		http.Error(w, "the channel is offline", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(playlist)
}

// verifyPlaybackToken checks a playback token against every imported
// playback key (IVS tokens name no key).
func verifyPlaybackToken(token, channelArn string, keys []*ecdsa.PublicKey, now func() time.Time) error {
	if token == "" {
		return errors.New("no token")
	}
	if len(keys) == 0 {
		return errors.New("no playback key pair is imported")
	}
	var last error
	for _, k := range keys {
		claims := jwt.MapClaims{}
		_, err := jwt.ParseWithClaims(token, claims, func(*jwt.Token) (any, error) { return k, nil },
			jwt.WithValidMethods([]string{"ES384"}), jwt.WithExpirationRequired(), jwt.WithTimeFunc(now))
		if err != nil {
			last = err
			continue
		}
		if arn, _ := claims["aws:channel-arn"].(string); arn != channelArn {
			return errors.New("the token is for another channel")
		}
		return nil
	}
	return last
}
