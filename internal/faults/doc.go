// Package faults injects failures between the controller and what it
// talks to, and its tests prove that the controller survives them against
// the local control plane (issue 11, the fault-injection part).
//
// [Proxy] is an HTTP reverse proxy in front of a kube-apiserver, listening
// on 127.0.0.1 with plain HTTP and talking to the API server with the
// admin credentials of a rest.Config. Clients built from [Proxy.Config] (or
// a kubeconfig written by [Proxy.WriteKubeconfig]) go through it. Rules
// ([Rule]) pick requests with a [Match] and answer them with a [Fault]:
// a Kubernetes Status with an optional Retry-After ([Status]), a watch
// that ends at once with 410 Expired ([Gone]), a delay before the request
// goes on ([Delay]), or a callback that runs before it goes on
// ([Observe]). [Proxy.StallWatches] makes the watch streams open at that
// moment go silent: the connection stays open and nothing more reaches the
// client, as with a stuck load balancer.
//
// [TCPProxy] forwards TCP connections to an address and can refuse them
// ([TCPProxy.SetDown]) or delay them ([TCPProxy.SetDelay]), for services
// such as a container registry whose TLS must reach the client intact.
//
// The tests run the nublado binary (`nublado serve`, built once in
// TestMain) against the package's control plane. The fast cases run in
// `make test`; the long ones carry the build tag soak (`make soak`).
package faults
