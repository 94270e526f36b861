#!/usr/bin/env bash
# make run: the controller on the local control plane, with its
# development stack, in the foreground until Ctrl-C.
#
#   1. the local control plane (etcd, kube-apiserver, kube-controller-manager,
#      kube-scheduler and kwok with three fake nodes), in the background;
#   2. the development stack (internal/devstack): a Docker registry over HTTPS
#      on localhost:18443, Gafaelfawr and Repertoire stand-ins on
#      127.0.0.1:18080; it applies the local overlay (deploy/overlays/local:
#      namespaces, the controller's ServiceAccount and RBAC, its
#      GafaelfawrIngresses, the Deployment scaled to zero), adds a
#      stand-in controller pod and the pull secret, writes the pod-metadata
#      files, seeds the nodes' status.images, and writes a kubeconfig with
#      a token of the controller's ServiceAccount;
#   3. nublado serve on deploy/examples/local.yaml, listening on
#      127.0.0.1:8080, as that ServiceAccount: with the permissions it has
#      in a real cluster, not the admin's.
#
# Ctrl-C stops the controller (gracefully), the development stack and the
# control plane (its state in .cache/cluster is removed, labs included).
# KEEP_CLUSTER=1 leaves the control plane running for the next make run
# (which adopts the labs it finds) or for kubectl; stop it with
# make cluster-down. Logs: .cache/run/*.log.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
cache=${CACHE:-$root/.cache}
bin=$cache/bin
config=${NUBLADO_CONFIG:-deploy/examples/local.yaml}
listen=127.0.0.1:8080
state=$cache/devstack
logs=$cache/run
base=http://$listen

echo "==> validating $config"
"$bin/nublado" validate --config "$config"

echo "==> building the development stack"
go build -o "$bin/devstack" ./internal/devstack/cmd/devstack
go build -o "$bin/localcluster" ./internal/testcluster/cmd/localcluster

echo "==> starting the local control plane"
"$bin/localcluster" up --state "$cache/cluster" --bin "$bin"
export KUBECONFIG=$cache/cluster/kubeconfig

mkdir -p "$logs"
pids=()
cleanup() {
	trap - EXIT INT TERM
	echo
	echo "==> stopping"
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	if [ "${KEEP_CLUSTER:-}" = 1 ]; then
		echo "The control plane keeps running: export KUBECONFIG=$KUBECONFIG; stop it with make cluster-down"
	else
		"$bin/localcluster" down --state "$cache/cluster"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for CMD... retries CMD for a minute; a process of ours that died
# ends the wait.
wait_for() {
	for _ in $(seq 600); do
		"$@" >/dev/null 2>&1 && return 0
		for pid in "${pids[@]}"; do
			kill -0 "$pid" 2>/dev/null || { echo "a process exited early; see $logs" >&2; return 1; }
		done
		sleep 0.1
	done
	echo "timed out waiting for: $*" >&2
	return 1
}

echo "==> starting the development stack (log: $logs/devstack.log)"
rm -f "$state/ready"
"$bin/devstack" --state "$state" --kubeconfig "$KUBECONFIG" \
	--overlay deploy/overlays/local --account-kubeconfig "$state/controller.kubeconfig" \
	>"$logs/devstack.log" 2>&1 &
pids+=($!)
wait_for test -e "$state/ready"

echo "==> starting nublado serve on $listen as ServiceAccount nublado/nublado-controller (log: $logs/nublado.log)"
SSL_CERT_FILE=$state/ca.pem \
REPERTOIRE_BASE_URL=http://127.0.0.1:18080/repertoire \
EXTERNAL_INSTANCE_URL=http://localhost:8080 \
NUBLADO_CONTROLLER_REPOSITORY=ghcr.io/lsst-sqre/nublado \
NUBLADO_CONTROLLER_TAG=latest \
	"$bin/nublado" serve --config "$config" --kubeconfig "$state/controller.kubeconfig" --listen "$listen" \
	>"$logs/nublado.log" 2>&1 &
pids+=($!)
wait_for curl -sf "$base/"

kubectl=$bin/kubectl
cat <<MSG

nublado is serving on $base (users: rachel, wanda; ribbon may not spawn).
The ingress's headers are added by hand: the token of a user is its name.

Create a lab for rachel:

  curl -i -X POST $base/nublado/spawner/v1/labs/rachel/create \\
    -H 'X-Auth-Request-User: rachel' -H 'X-Auth-Request-Token: rachel' \\
    -H 'Content-Type: application/json' \\
    -d '{"options": {"image_class": "recommended", "size": "small"}, "env": {"JUPYTERHUB_SERVICE_PREFIX": "/nb/user/rachel/"}}'

Watch its progress (Server-Sent Events, ends when the spawn ends):

  curl -N $base/nublado/spawner/v1/labs/rachel/events -H 'X-Auth-Request-User: rachel'

See its pod Running on a kwok node:

  KUBECONFIG=$KUBECONFIG $kubectl get pods -A -o wide

Read its status:

  curl $base/nublado/spawner/v1/labs/rachel

Delete it:

  curl -i -X DELETE $base/nublado/spawner/v1/labs/rachel

Start rachel's file server (blocks until ready), list, delete it:

  curl -i $base/files -H 'X-Auth-Request-User: rachel' -H 'X-Auth-Request-Token: rachel'
  curl $base/nublado/fileserver/v1/users
  curl -i -X DELETE $base/nublado/fileserver/v1/users/rachel

More: the lab form  curl $base/nublado/spawner/v1/lab-form/rachel -H 'X-Auth-Request-User: rachel' -H 'X-Auth-Request-Token: rachel'
      fsadmin        curl -X POST $base/nublado/fsadmin/v1/service -H 'Content-Type: application/json' -d '{"start": true}'
      images         curl $base/nublado/spawner/v1/images
      prepuller      curl $base/nublado/spawner/v1/prepulls
      logs           tail -f $logs/nublado.log

Ctrl-C stops everything.
MSG

# Runs until Ctrl-C (which the controller and the stack receive too) or
# until one of them exits by itself. Both exit 0 only when signalled.
stopping=
trap 'stopping=1' INT TERM
status=0
wait -n "${pids[@]}" || status=$?
sleep 0.5 # lets a Ctrl-C that ended a child reach the trap
if [ -z "$stopping" ] && [ "$status" != 0 ]; then
	echo "a process exited unexpectedly (status $status); see $logs" >&2
	exit 1
fi
exit 0
