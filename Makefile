# Shortcuts; the README's commands work without make.
.PHONY: run test vet fmt build ci

run:
	go run ./cmd/ivslive

test:
	go test -race ./...

vet:
	go vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

build:
	CGO_ENABLED=0 go build -trimpath -o bin/ivslive ./cmd/ivslive

ci:
	.ci/run
