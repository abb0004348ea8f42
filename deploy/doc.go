// Package deploy holds no code: only the checks (deploy_test.go,
// ivsevents_test.go) that keep the deployment files — ../Dockerfile,
// ../docker-compose.yml, ivslive.service and the CloudFormation template
// ivs-events.yaml — well-formed and consistent with each other and with
// ivslive's configuration, on machines without a Docker engine, systemd or
// AWS to try them.
package deploy
