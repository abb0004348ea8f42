package ivslive

import (
	"context"
)

// CreateStageInput is what ivslive sends to IVS to create a stage.
type CreateStageInput struct {
	Name string
	Tags map[string]string
}

// StageSummary is one entry of IVS's ListStages.
type StageSummary struct {
	ARN             string
	Name            string
	ActiveSessionID string
	Tags            map[string]string
}

// PublicKey is a public key imported into IVS for verifying self-signed tokens.
type PublicKey struct {
	ARN         string
	Name        string
	Fingerprint string
	// Material is the key in PEM, as imported.
	Material string
}

// IVS is the IVS Real-Time control plane as the core needs it. One adapter
// implements it on aws-sdk-go-v2, pointed at AWS or at the emulator; the
// adapter translates AWS errors into *Error codes and paces calls to AWS's
// fixed rate quotas.
type IVS interface {
	CreateStage(ctx context.Context, in CreateStageInput) (Stage, error)
	GetStage(ctx context.Context, arn string) (Stage, error)
	// ListStages returns one page of every stage in the account and region.
	ListStages(ctx context.Context, nextToken string, max int) ([]StageSummary, string, error)
	UpdateStage(ctx context.Context, arn, name string) (Stage, error)
	DeleteStage(ctx context.Context, arn string) error
	DisconnectParticipant(ctx context.Context, stageARN, participantID, reason string) error
	StartReplication(ctx context.Context, r Replication) error
	StopReplication(ctx context.Context, r Replication) error
	// ListReplicas returns the active replications of one participant.
	ListReplicas(ctx context.Context, sourceStageARN, participantID string) ([]Replication, error)
	// ListParticipants returns every participant of one stage session that
	// matches f, following every page.
	ListParticipants(ctx context.Context, stageARN, sessionID string, f ParticipantFilter) ([]Participant, error)
	ImportPublicKey(ctx context.Context, name, pem string, tags map[string]string) (PublicKey, error)
	GetPublicKey(ctx context.Context, arn string) (PublicKey, error)
}
