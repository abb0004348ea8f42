// Package ivs is the IVS adapter: the aws-sdk-go-v2 ivsrealtime client, and
// the ivs (low-latency) client for the channels compositions broadcast to.
// In production it talks to AWS with the default credential chain
// (environment, shared config, IAM role); in
// embedded mode and in tests its BaseEndpoint points at the emulator over
// loopback, so the AWS code path is exercised by every run. It translates AWS
// errors into ivslive error codes and paces calls to AWS's fixed rate quotas
// by waiting, with a deadline, instead of failing.
package ivs

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	ivssdk "github.com/aws/aws-sdk-go-v2/service/ivs"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"

	"github.com/ivslive/ivslive"
)

// Options configure a Client.
type Options struct {
	// Region is the AWS region (AWS_REGION).
	Region string
	// Endpoint overrides the service endpoint (the emulator's URL); "" is AWS.
	Endpoint string
	// ChannelEndpoint overrides the low-latency (ivs) service's endpoint,
	// for channels and playback keys. "" is AWS when Endpoint is "", and
	// Endpoint + "/lowlatency" (where the emulator serves that service,
	// whose signing name is the real-time service's) when it is set.
	ChannelEndpoint string
	// Credentials, when set, replace the SDK's default chain, which reads
	// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN from
	// the environment, then shared config and SSO, web identity, container
	// and instance roles. The emulator ignores credentials.
	Credentials aws.CredentialsProvider
	// HTTPClient is optional.
	HTTPClient *http.Client
	// PaceTimeout bounds how long a call waits for its share of the rate
	// quota before failing with SERVICE_UNAVAILABLE (default 10 s).
	PaceTimeout time.Duration
	// Quotas overrides the per-operation calls per second (tests).
	Quotas map[string]float64
	// Shared, when set, is a rate limiter every instance shares (Redis):
	// the quotas are per account and region, so the instances spend one
	// budget. When it fails, each instance paces its calls alone.
	Shared ivslive.RateLimiter
	// OnSharedError, when set, counts each call paced alone because Shared
	// failed.
	OnSharedError func(op string)
	// RetryMaxBackoff caps the SDK's backoff between retries (default the
	// SDK's, 20 s); tests shorten it.
	RetryMaxBackoff time.Duration
	// Observe, when set, is called after every IVS call with its operation,
	// the error code of its result ("" on success) and its duration.
	Observe func(op, code string, d time.Duration)
	Logger  *slog.Logger
}

// Client is the IVS Real-Time adapter. It implements ivslive.IVS.
type Client struct {
	api      *ivsrealtime.Client
	ll       *ivssdk.Client // the low-latency service: channels, playback keys
	cfg      aws.Config     // for STS (Identity)
	endpoint string
	pacer    *pacer
	observe  func(op, code string, d time.Duration)
	log      *slog.Logger
}

var (
	_ ivslive.IVS       = (*Client)(nil)
	_ ivslive.Broadcast = (*Client)(nil)
)

// New returns a Client. It resolves credentials lazily, so it does not fail
// when none are configured until the first call.
func New(ctx context.Context, o Options) (*Client, error) {
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	loads := []func(*config.LoadOptions) error{config.WithRegion(o.Region)}
	if o.Credentials != nil {
		loads = append(loads, config.WithCredentialsProvider(o.Credentials))
	}
	if o.HTTPClient != nil {
		loads = append(loads, config.WithHTTPClient(o.HTTPClient))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loads...)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	if o.PaceTimeout <= 0 {
		o.PaceTimeout = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	p := newPacer(o.Quotas, o.PaceTimeout, o.Shared, o.OnSharedError, o.Logger)
	api := ivsrealtime.NewFromConfig(cfg, func(opts *ivsrealtime.Options) {
		if o.Endpoint != "" {
			opts.BaseEndpoint = aws.String(o.Endpoint)
		}
		opts.APIOptions = append(opts.APIOptions, p.middleware)
		if o.RetryMaxBackoff > 0 {
			opts.Retryer = retry.AddWithMaxBackoffDelay(retry.NewStandard(), o.RetryMaxBackoff)
		}
	})
	if o.ChannelEndpoint == "" && o.Endpoint != "" {
		o.ChannelEndpoint = strings.TrimRight(o.Endpoint, "/") + "/lowlatency"
	}
	ll := ivssdk.NewFromConfig(cfg, func(opts *ivssdk.Options) {
		if o.ChannelEndpoint != "" {
			opts.BaseEndpoint = aws.String(o.ChannelEndpoint)
		}
		opts.APIOptions = append(opts.APIOptions, p.middleware)
		if o.RetryMaxBackoff > 0 {
			opts.Retryer = retry.AddWithMaxBackoffDelay(retry.NewStandard(), o.RetryMaxBackoff)
		}
	})
	return &Client{
		api:      api,
		ll:       ll,
		cfg:      cfg,
		endpoint: o.Endpoint,
		pacer:    p,
		observe:  o.Observe,
		log:      o.Logger,
	}, nil
}

// call runs one operation (the pacer waits before each of its attempts),
// observes it and translates its error.
func (c *Client) call(ctx context.Context, op string, fn func(ctx context.Context) error) error {
	start := time.Now()
	err := fn(ctx)
	if err != nil {
		err = translate(op, err)
	}
	if c.observe != nil {
		c.observe(op, ivslive.ErrorCode(err), time.Since(start))
	}
	if err != nil && ivslive.ErrorCode(err) != ivslive.ENOTFOUND {
		c.log.Warn("ivs call failed", "op", op, "err", err)
	}
	return err
}
