# syntax=docker/dockerfile:1
#
# The nublado image: one static binary, /usr/local/bin/nublado, that is the
# controller (`nublado serve`, the Deployment of deploy/base), the lab init
# containers (`nublado inithome`, `landingpage`, `startup`) and the fsadmin
# pod's image. Build from the repository root:
#
#   docker build -t ghcr.io/nublado-go/nublado:$(git describe --tags) \
#     --build-arg VERSION=$(git describe --tags) .
#
# deploy/dockerfile_test.go checks this file against the Deployment.

# The runtime base (see the runtime stage). FROM can use only the ARGs
# declared before the first FROM.
ARG BASE=gcr.io/distroless/static-debian12:debug-nonroot

# Build stage: a static binary (no cgo), reproducible paths.
FROM golang:1.26-bookworm AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-trimpath
# Modules first, so that a change of the source does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=0.1.0-dev
RUN go build -ldflags "-s -w -X github.com/nublado-go/nublado/cli.Version=${VERSION}" \
      -o /out/nublado ./cli/nublado \
    && /out/nublado version

# Runtime stage: distroless static (CA certificates, tzdata, /etc/passwd
# with nonroot = 65532; no package manager). The debug variant adds busybox
# under /busybox (on its PATH) and nothing else: the fsadmin pod runs this
# image with `tail -f /dev/null` and administrators exec a shell into it.
# A site that does not use fsadmin can build on the plain variant:
#   --build-arg BASE=gcr.io/distroless/static-debian12:nonroot
FROM ${BASE}
COPY --from=build /out/nublado /usr/local/bin/nublado
# Non-root by default; the Deployment sets the same user (runAsNonRoot).
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/nublado"]
CMD ["serve"]
