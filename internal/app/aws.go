package app

import (
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// awsCredentials returns the credentials of the IVS and CloudWatch clients:
// nil, for the SDK's default chain, whenever the SDK can find them itself.
// That chain reads AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
// AWS_SESSION_TOKEN from the environment (temporary credentials from SSO or
// assume-role need all three), then shared config, SSO, web identity,
// container and instance roles, and refreshes what expires. Only keys
// that came from ./.env, which the SDK cannot see, are handed over as
// static credentials, with AWS_SESSION_TOKEN from there too.
func awsCredentials(cfg Config) aws.CredentialsProvider {
	if cfg.AWSAccessKeyID == "" || cfg.AWSSecretAccessKey == "" {
		return nil
	}
	if os.Getenv("AWS_ACCESS_KEY_ID") == cfg.AWSAccessKeyID && os.Getenv("AWS_SECRET_ACCESS_KEY") == cfg.AWSSecretAccessKey {
		return nil
	}
	return credentials.NewStaticCredentialsProvider(cfg.AWSAccessKeyID, cfg.AWSSecretAccessKey, cfg.AWSSessionToken)
}
