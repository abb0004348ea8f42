package app

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ivslive/ivslive/live"
)

// ivsDescription says in the configuration's words which IVS this instance
// uses.
func ivsDescription(cfg Config) string {
	switch {
	case cfg.Backend() == "emulator" && cfg.IVSEndpoint == "":
		return "the embedded emulator in IVSLIVE_DATA_DIR " + cfg.DataDir
	case cfg.IVSEndpoint != "":
		return "IVS_ENDPOINT " + cfg.IVSEndpoint
	default:
		return "AWS in AWS_REGION " + cfg.AWSRegion
	}
}

// bootstrapError adds to a refused start what the operator should do. The
// instances that share a stage store must share one IVS.
func bootstrapError(cfg Config, err error) error {
	var other *live.OtherIVSError
	if !errors.As(err, &other) {
		return fmt.Errorf("bootstrap: %w", err)
	}
	var advice string
	switch {
	case cfg.Backend() == "emulator" && cfg.IVSEndpoint == "":
		advice = "In embedded mode each instance has an IVS emulator of its own, and instances that share PostgreSQL must share one IVS: " +
			"run `ivslive emulator` once and set IVS_ENDPOINT to its URL on every instance, or use AWS " +
			"(IVS_BACKEND=aws or MASTER_STAGE_ARN, with the same AWS account and AWS_REGION on every instance)"
	case cfg.Backend() == "emulator":
		advice = "Instances that share PostgreSQL must share one IVS: run `ivslive emulator` once and set the same IVS_ENDPOINT " +
			"(its URL) on every instance, or use AWS (IVS_BACKEND=aws or MASTER_STAGE_ARN, with the same AWS account and AWS_REGION on every instance)"
	default:
		advice = "Instances that share PostgreSQL must share one IVS: use the same AWS account (credentials) and AWS_REGION on every instance"
	}
	return fmt.Errorf("refusing to start on %s: %w. %s. Nothing was written; see \"Several instances\" in deploy/README.md",
		ivsDescription(cfg), other, advice)
}

// LockEmulatorState keeps a second process off an emulator's state file: two
// emulators loaded from one file would share an id but not their stages.
func LockEmulatorState(state string) (func() error, error) {
	if err := os.MkdirAll(filepath.Dir(state), 0o700); err != nil {
		return nil, fmt.Errorf("create the emulator's state directory: %w", err)
	}
	unlock, err := lockFile(state + ".lock")
	if err != nil {
		return nil, fmt.Errorf("the IVS emulator state %s is in use by another ivslive process (%v): give every instance its own IVSLIVE_DATA_DIR, "+
			"and share one IVS with `ivslive emulator` and IVS_ENDPOINT", state, err)
	}
	return unlock, nil
}
