package app

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/ivs"
	"github.com/ivslive/ivslive/live"
	"github.com/ivslive/ivslive/token"
)

// openPlayback builds the audience past real-time seats (PLAYBACK_ENABLED):
// the ivs client for the channel and compositions, the playback presence
// store, and the playback signer whose public half IVS must know. The key is
// imported at every start; IVS refusing it as already imported is fine.
func (a *App) openPlayback(ctx context.Context, client *ivs.Client, store ivslive.PresenceStore) (*live.Playback, error) {
	path := a.cfg.PlaybackKeyFile
	if path == "" {
		path = filepath.Join(a.cfg.DataDir, "ivs-playback-key.pem")
	}
	key, _, err := token.LoadOrCreateKey(path)
	if err != nil {
		return nil, fmt.Errorf("playback key %s: %w", path, err)
	}
	signer, err := token.NewPlaybackSigner(key, a.opts.Now)
	if err != nil {
		return nil, err
	}
	pem, err := token.EncodePublicKey(signer.PublicKey())
	if err != nil {
		return nil, err
	}
	kp, err := client.ImportPlaybackKeyPair(ctx, "ivslive-playback-"+a.now().UTC().Format("20060102-150405"), string(pem),
		map[string]string{live.TagManagedBy: live.ManagedByValue})
	switch ivslive.ErrorCode(err) {
	case "":
		a.log.Info("imported the playback key", "arn", kp.ARN)
	case ivslive.ECONFLICT:
	default:
		return nil, fmt.Errorf("import the playback key: %w", err)
	}
	p := &live.Playback{Broadcast: client, Presence: store, Tokens: signer, ChannelARN: a.cfg.PlaybackChannelARN,
		Private: a.cfg.PlaybackPrivate, TokenTTL: a.cfg.PlaybackTokenTTL, WarmAt: a.cfg.PlaybackWarmAt}
	if a.opts.Playback != nil {
		a.opts.Playback(p)
	}
	return p, nil
}
