// Package sqs consumes the events IVS sends to Amazon EventBridge, from the
// SQS queue an EventBridge rule targets (IVS_EVENTS_QUEUE_URL), with
// aws-sdk-go-v2/service/sqs. In production the queue is in AWS; in embedded
// mode and in tests it is the IVS emulator's event queue, which speaks the
// same wire protocol, so one code path runs everywhere.
//
// Every instance may consume: SQS delivers each message at least once and
// hides it from the others while one holds it, and the Consumer claims each
// event id in an ivslive.EventLog before applying it, so each event is
// applied once even when two instances receive it (see ivslive.EventLog).
package sqs

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
)

// Options configure the SQS client.
type Options struct {
	// QueueURL is the queue's URL, https://sqs.<region>.amazonaws.com/<account>/<name>
	// in AWS.
	QueueURL string
	// Region is used when the queue URL does not name one (default
	// us-east-1).
	Region string
	// Credentials, when set, replace the SDK's default chain (the
	// emulator ignores them).
	Credentials aws.CredentialsProvider
	// HTTPClient is optional. Long polls last up to 20 s: its Timeout, if
	// any, must be longer.
	HTTPClient *http.Client
}

// NewClient returns an SQS client for the queue at o.QueueURL. A queue URL
// on an AWS host (sqs.<region>.amazonaws.com, or the legacy
// <region>.queue.amazonaws.com) uses AWS's endpoint for its region; any
// other host (the emulator) is the endpoint itself: the URL without its
// last two segments, the account and the queue's name, as AWS's queue URLs
// are built.
func NewClient(ctx context.Context, o Options) (*awssqs.Client, error) {
	endpoint, region, err := Endpoint(o.QueueURL)
	if err != nil {
		return nil, err
	}
	if region == "" {
		region = o.Region
	}
	if region == "" {
		region = "us-east-1"
	}
	loads := []func(*config.LoadOptions) error{config.WithRegion(region)}
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
	return awssqs.NewFromConfig(cfg, func(opts *awssqs.Options) {
		if endpoint != "" {
			opts.BaseEndpoint = aws.String(endpoint)
		}
	}), nil
}

// Endpoint splits a queue URL into the endpoint to send requests to ("" for
// AWS's own, resolved from the region) and the region its host names ("" if
// none).
func Endpoint(queueURL string) (endpoint, region string, err error) {
	u, err := url.Parse(queueURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", "", fmt.Errorf("queue URL %q must be an absolute http(s) URL such as https://sqs.us-east-1.amazonaws.com/123456789012/ivs-events", queueURL)
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) < 2 || parts[len(parts)-1] == "" || parts[len(parts)-2] == "" {
		return "", "", fmt.Errorf("queue URL %q must end in /<account>/<queue name>", queueURL)
	}
	host := strings.ToLower(u.Hostname())
	if strings.HasSuffix(host, ".amazonaws.com") || strings.HasSuffix(host, ".amazonaws.com.cn") {
		labels := strings.Split(host, ".")
		switch {
		case labels[0] == "sqs" && len(labels) > 3:
			region = labels[1]
		case len(labels) > 3 && labels[1] == "queue":
			region = labels[0]
		}
		return "", region, nil
	}
	u.Path = "/" + strings.Join(parts[:len(parts)-2], "/")
	u.RawPath, u.RawQuery, u.Fragment = "", "", ""
	return strings.TrimRight(u.String(), "/"), "", nil
}
