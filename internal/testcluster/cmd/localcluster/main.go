// Command localcluster starts and stops the local Kubernetes control plane of
// package testcluster in the background, for people and scripts (`make
// cluster`, `make cluster-down`, `make run`).
//
//	localcluster up --state DIR --bin DIR   # start; print DIR/kubeconfig
//	localcluster down --state DIR           # stop; remove DIR
//
// `up` starts a detached supervisor (`localcluster serve`, in its own session,
// logging to DIR/localcluster.log) that owns the control-plane processes, and
// returns once the cluster is ready with three fake nodes and the CRDs of
// deploy/crds installed. `down` sends the supervisor SIGTERM, which stops the
// components, and then removes DIR.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRoot().ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "localcluster:", err)
		os.Exit(1)
	}
}
