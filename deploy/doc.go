// Package deploy holds no code: only the checks (deploy_test.go) that keep the
// deployment files — ../Dockerfile, ../docker-compose.yml and ivslive.service
// — well-formed and consistent with each other and with ivslive's
// configuration, on machines without a Docker engine or systemd to try them.
package deploy
