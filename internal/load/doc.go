// Package load drives the spawner REST API of a running controller the way
// JupyterHub's spawner does, at scale, and measures what the spawners see:
// many users create their labs within a window (evenly spread, or all at
// once), each follows its lab's event stream until the spawn completes,
// and later each deletes its lab. [Run] returns the per-user timings and
// [Summarize] their percentiles.
//
// [Controller] runs the nublado binary as a child process (`nublado serve`,
// as make run does), so that its peak resident memory (VmHWM) and the
// Kubernetes API requests it made (its own /metrics) can be read without
// the load generator's share.
//
// The package's tests run the controller on the local control plane
// (internal/testcluster) with the development stack (internal/devstack):
// a small run in `make test`, and under the build tag soak (`make soak`)
// the 300-user load of issue 11 and the 200-user burst of issue 7.
package load
