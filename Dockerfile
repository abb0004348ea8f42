# syntax=docker/dockerfile:1
#
# ivslive as a container image: a static Go binary on a distroless base.
#
#   docker build -t ivslive .
#   docker run -p 3000:3000 -v ivslive-data:/data ivslive
#
# docker-compose.yml runs it with PostgreSQL and Redis; deploy/README.md says more.

# ---- build ----
# The official Go image of go.mod's Go line (1.26.x). Official Go images set
# GOTOOLCHAIN=local, so a newer patch in go.mod needs a newer image, never a
# silent toolchain download during the build.
FROM golang:1.26-bookworm AS build
WORKDIR /src

# Modules in their own layer: a code change reuses it instead of downloading
# every dependency again.
COPY go.mod go.sum ./
RUN go mod download

COPY . .
# CGO_ENABLED=0: every dependency is pure Go (SQLite is modernc.org/sqlite), so
# the binary is static and runs without a libc. -trimpath and -s -w keep build
# paths and debug tables out of the image. The build cache mount only speeds
# up rebuilds; nothing in it reaches the image.
RUN --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/ivslive ./cmd/ivslive
# The data directory is created here because the final image has no shell to
# run mkdir. Mode 0700, as ivslive itself creates it: it holds the generated
# API key and the signing key.
RUN install -d -m 0700 /out/data

# ---- run ----
# distroless/static rather than scratch: it already carries what a static Go
# server needs and scratch lacks (CA certificates for AWS, Redis and
# PostgreSQL over TLS, time zone data, an /etc/passwd with the nonroot user),
# maintained and patched upstream, with no shell or package manager to attack.
FROM gcr.io/distroless/static-debian12:nonroot

COPY --from=build /out/ivslive /ivslive
# Owned by nonroot (65532): a named volume mounted on /data starts as a copy
# of this directory, owner and mode included, so the server can write to it.
COPY --from=build --chown=65532:65532 /out/data /data

# Embedded-mode state (SQLite, emulator state, keys, the generated API key)
# and the local history spool live in the volume and survive the container.
ENV IVSLIVE_DATA_DIR=/data
WORKDIR /data
VOLUME ["/data"]

# The numeric id of distroless's "nonroot" user: Kubernetes' runAsNonRoot can
# only verify a numeric USER.
USER 65532:65532

# API_PORT's default; API_HOST's default (empty) binds every interface, as a
# container needs.
EXPOSE 3000

# No HEALTHCHECK: the image has no shell, curl or wget to run one, and ivslive
# has no probe subcommand. Orchestrators probe GET /health (200 healthy or
# degraded, 503 unhealthy) themselves: a Kubernetes httpGet probe, an ECS or
# ALB target-group health check.
ENTRYPOINT ["/ivslive"]
CMD ["serve"]
