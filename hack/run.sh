#!/usr/bin/env bash
# make run: start the local Kubernetes control plane (three kwok nodes) and
# show how to use it with nublado. Later steps of the project start the
# controller and its development stack here too.
set -euo pipefail
cd "$(dirname "$0")/.."
cache=${CACHE:-$PWD/.cache}
bin=$cache/bin
config=${NUBLADO_CONFIG:-deploy/examples/minimal.yaml}

echo "==> validating $config"
"$bin/nublado" validate --config "$config"

echo "==> starting the local control plane"
go run ./internal/testcluster/cmd/localcluster up --state "$cache/cluster" --bin "$bin"

cat <<MSG

The local control plane is up (etcd, kube-apiserver, kube-controller-manager,
kube-scheduler and kwok with three fake nodes).

  export KUBECONFIG=$cache/cluster/kubeconfig
  $bin/kubectl get nodes

nublado's offline tools work against it:

  $bin/nublado validate --config $config

Stop it with: make cluster-down
MSG
