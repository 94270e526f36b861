// Package testcluster runs a local Kubernetes control plane for tests and for
// `make cluster`: etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler and kwok (simulated nodes and kubelets), as processes on
// 127.0.0.1 with free ports. The binaries come from `make cluster-bins`
// (deploy/local), found through $NUBLADO_CLUSTER_BIN or the repository's
// .cache/bin.
//
// What runs is a real API server with its default admission chain and RBAC,
// a controller manager with every default controller (namespaces get their
// default ServiceAccount, namespace deletion completes, ResourceQuota status
// is computed, Jobs make pods), a scheduler that binds pods, and kwok, which
// acts as the kubelet of every node annotated kwok.x-k8s.io/node=fake:
// scheduled pods become Running (Ready) at once, pods owned by a Job become
// Succeeded, and deleted pods go away. Containers never run; pod IPs are
// data only.
//
// A test package starts one control plane in TestMain with [Main] and gets it
// with [Shared]; code that needs its own control plane (for example to
// restart the API server without disturbing other tests) calls [Start] and
// [Cluster.Stop]. Tests never skip when the binaries are missing: they fail
// and say to run `make cluster-bins`.
//
// Helpers cover what a test needs a kubelet or an operator for: fake nodes
// with labels, taints and images ([Cluster.AddNode]), pod phases
// ([Cluster.SetPodPhase]), holding pods Pending ([HoldAnnotation],
// [Cluster.SetNodesSchedulable]), keeping a Job's pod Running
// ([KeepRunningAnnotation]), restarting the API server
// ([Cluster.RestartAPIServer]), CRDs ([Cluster.InstallCRDs]) and a stand-in
// for Gafaelfawr's operator that turns GafaelfawrIngresses into Ingresses
// with a load-balancer IP ([StartGafaelfawrOperator]).
package testcluster
