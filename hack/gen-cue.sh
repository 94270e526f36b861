#!/usr/bin/env bash
# Regenerates cue.mod/gen: the Kubernetes API schemas that the templates and
# `nublado render --strict` unify every rendered object with. Run through
# `make gen`; the output is committed. Reproducible: it starts from an empty
# cue.mod/gen and needs only the Go module proxy (k8s.io/api is pinned in
# go.mod through internal/tools/tools.go; `cue get go` only reads packages the
# module imports).
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
CUE_VERSION=v0.17.1
# The API groups the templates use. Their dependencies (apimachinery's
# meta/v1, api/resource, util/intstr, ...) are generated along with them.
PACKAGES=(
	k8s.io/api/core/v1
	k8s.io/api/batch/v1
	k8s.io/api/networking/v1
	k8s.io/apimachinery/pkg/apis/meta/v1
	k8s.io/apimachinery/pkg/api/resource
	k8s.io/apimachinery/pkg/util/intstr
)

"$GO" mod download k8s.io/api k8s.io/apimachinery
rm -rf cue.mod/gen
"$GO" run "cuelang.org/go/cmd/cue@${CUE_VERSION}" get go "${PACKAGES[@]}"
# cue get go writes embedded structs (tagged `json:""` since k8s.io/api v0.37)
# as fields named after their type; turn them back into embeddings.
"$GO" run ./hack/cueinline cue.mod/gen
