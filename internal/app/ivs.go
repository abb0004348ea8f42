package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/ivslive/ivslive"
	ivshttp "github.com/ivslive/ivslive/http"
	"github.com/ivslive/ivslive/ivs"
	"github.com/ivslive/ivslive/ivs/emulator"
	"github.com/ivslive/ivslive/token"
)

// ivsParts is what openIVS opens.
type ivsParts struct {
	client *ivs.Client
	// emulator is the embedded emulator, nil on AWS or with IVS_ENDPOINT.
	emulator *emulator.Emulator
	check    ivshttp.HealthCheck
}

// openIVS returns the IVS client. In embedded mode it first starts the
// emulator: on a loopback listener of its own, where the SDK client talks to
// it, and as a handler the API mounts at /ivs/.
// shared, when set, is the rate budget every instance spends (Redis).
func (a *App) openIVS(ctx context.Context, shared ivslive.RateLimiter) (ivsParts, error) {
	p := ivsParts{check: ivshttp.HealthCheck{Name: "ivs", Mode: a.cfg.Backend(), CacheFor: 15 * time.Second}}
	opts := ivs.Options{Region: a.cfg.AWSRegion, Endpoint: a.cfg.IVSEndpoint, Logger: a.log, Credentials: awsCredentials(a.cfg), Shared: shared}
	if a.metrics != nil {
		opts.Observe, opts.OnSharedError = a.metrics.IVSCall, a.metrics.IVSPaceFallback
	}
	if a.cfg.Backend() == "emulator" && a.cfg.IVSEndpoint == "" {
		port := a.listener.Addr().(*net.TCPAddr).Port
		em, endpoint, err := a.startEmulator(publicBase(a.cfg.Host, port) + "/ivs")
		if err != nil {
			return p, err
		}
		p.emulator, opts.Endpoint = em, endpoint
		a.warnEmulatorExposure()
	}
	if a.cfg.Backend() == "emulator" {
		// The emulator ignores credentials; static ones keep the SDK from
		// searching the default chain (and IMDS) for nothing.
		opts.Credentials = credentials.NewStaticCredentialsProvider("emulator", "emulator", "")
	}
	if a.opts.IVS != nil {
		a.opts.IVS(&opts)
	}
	a.ivsEndpoint = opts.Endpoint
	client, err := ivs.New(ctx, opts)
	if err != nil {
		return p, err
	}
	p.client = client
	p.check.Probe = func(ctx context.Context) (map[string]any, error) {
		_, _, err := client.ListStages(ctx, "", 1)
		return nil, err
	}
	a.IVS, a.Emulator = client, p.emulator
	return p, nil
}

func (a *App) startEmulator(baseURL string) (*emulator.Emulator, string, error) {
	state := filepath.Join(a.cfg.DataDir, "emulator.json")
	unlock, err := LockEmulatorState(state)
	if err != nil {
		return nil, "", err
	}
	a.onClose(unlock)
	opts := emulator.Options{
		Region: a.cfg.AWSRegion, AccountID: a.cfg.AWSAccountID, BaseURL: baseURL, MediaAddr: a.cfg.EmulatorMediaAddr,
		StatePath: state, Logger: a.log.With("part", "emulator"), Now: a.opts.Now,
	}
	if a.opts.Emulator != nil {
		a.opts.Emulator(&opts)
	}
	em, err := emulator.New(opts)
	if err != nil {
		return nil, "", fmt.Errorf("start the IVS emulator: %w", err)
	}
	a.onClose(em.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", fmt.Errorf("start the IVS emulator: %w", err)
	}
	// No ReadTimeout or WriteTimeout: WHIP and event streams may be long.
	srv := a.newServer(em)
	go srv.Serve(ln)
	a.onClose(srv.Close)
	return em, "http://" + ln.Addr().String(), nil
}

// warnEmulatorExposure says when the embedded emulator runs where it does
// not belong, or where its control plane cannot be used.
func (a *App) warnEmulatorExposure() {
	if a.cfg.Production() {
		a.log.Warn("the IVS emulator is running with NODE_ENV=production: it is for development and tests; production uses AWS (set MASTER_STAGE_ARN or IVS_BACKEND=aws)",
			"emulatorControl", a.cfg.EmulatorControl)
	}
	if tp, _ := ivshttp.ParseTrustProxy(a.cfg.TrustProxy); tp.Enabled() && a.cfg.EmulatorControl == "loopback" {
		a.log.Warn("TRUST_PROXY is set, so the emulator's control plane at /ivs/ refuses every request (it cannot tell a proxy from a local tool); use EMULATOR_CONTROL=key to reach it with the admin key")
	}
}

func publicBase(host string, port int) string {
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(port))
}

// sharedPace is the IVS rate budget the instances share: IVS's quotas are
// per account and region, so with Redis every instance spends one budget.
func (a *App) sharedPace(pres presence) ivslive.RateLimiter {
	if a.cfg.PresenceMode() != "redis" {
		return nil
	}
	return pres.limiter
}

// openTokens picks the token strategy: key-pair (signed here, no AWS call)
// when a private key is configured or in embedded mode, API otherwise.
func (a *App) openTokens(ctx context.Context, client *ivs.Client, store ivslive.StageStore) (ivslive.TokenIssuer, error) {
	a.tokens = tokenState{strategy: a.cfg.TokenMode()}
	if a.cfg.TokenMode() == "api" {
		return ivs.Tokens{Client: client}, nil
	}
	key, generated, err := a.signingKey()
	if err != nil {
		return nil, err
	}
	arn := a.cfg.IVSPublicKeyARN
	switch {
	case arn != "":
		if err := a.verifyPublicKey(ctx, client, arn, &key.PublicKey); err != nil {
			return nil, err
		}
	case a.cfg.Backend() == "aws":
		return nil, errors.New("IVS_PUBLIC_KEY_ARN is required with IVS_PRIVATE_KEY(_FILE): import the public key with `ivslive keygen --import` and set the ARN it prints")
	default:
		arn, err = a.embeddedKeyARN(ctx, client, store, key, generated)
		if err != nil {
			return nil, err
		}
	}
	a.tokens.keyARN = arn
	return token.NewSigner(key, arn, a.opts.Now)
}

// signingKey reads the configured private key, or in embedded mode the one
// generated into the data dir.
func (a *App) signingKey() (key *ecdsaKey, generated bool, err error) {
	switch {
	case a.cfg.IVSPrivateKey != "":
		// Environments often carry PEM with literal \n sequences.
		pem := strings.ReplaceAll(a.cfg.IVSPrivateKey, `\n`, "\n")
		key, err = token.ParsePrivateKey([]byte(pem))
		if err != nil {
			return nil, false, fmt.Errorf("IVS_PRIVATE_KEY: %w", err)
		}
		return key, false, nil
	case a.cfg.IVSPrivateKeyFile != "":
		b, err := os.ReadFile(a.cfg.IVSPrivateKeyFile)
		if err != nil {
			return nil, false, fmt.Errorf("IVS_PRIVATE_KEY_FILE: %w", err)
		}
		key, err = token.ParsePrivateKey(b)
		if err != nil {
			return nil, false, fmt.Errorf("IVS_PRIVATE_KEY_FILE %s: %w", a.cfg.IVSPrivateKeyFile, err)
		}
		return key, false, nil
	default:
		return token.LoadOrCreateKey(filepath.Join(a.cfg.DataDir, "ivs-signing-key.pem"))
	}
}

// embeddedKeyARN makes sure the emulator knows the public half of the key
// and returns its ARN: the key imported before, found by its material, or
// imported now. Never the ARN recorded in the stage store alone: instances
// that share the store may each have a key of their own.
func (a *App) embeddedKeyARN(ctx context.Context, client *ivs.Client, store ivslive.StageStore, key *ecdsaKey, generated bool) (string, error) {
	pem, err := token.EncodePublicKey(&key.PublicKey)
	if err != nil {
		return "", err
	}
	var pk ivslive.PublicKey
	how := "adopted the token signing key imported before"
	if !generated {
		pk, err = client.FindPublicKey(ctx, string(pem))
	}
	if generated || ivslive.ErrorCode(err) == ivslive.ENOTFOUND {
		pk, err = client.ImportPublicKey(ctx, "ivslive-"+a.now().UTC().Format("20060102-150405"), string(pem), map[string]string{"ManagedBy": "ivslive"})
		how = "imported the token signing key"
		if ivslive.ErrorCode(err) == ivslive.ECONFLICT {
			// Imported meanwhile (IVS never imports a key twice).
			pk, err = client.FindPublicKey(ctx, string(pem))
		}
	}
	if err != nil {
		return "", fmt.Errorf("import the signing key into the emulator: %w", err)
	}
	// A record for operators; the last instance to start wrote it.
	if err := store.SetSetting(ctx, ivslive.SettingPublicKeyARN, pk.ARN); err != nil {
		return "", err
	}
	a.log.Info(how, "arn", pk.ARN)
	return pk.ARN, nil
}
