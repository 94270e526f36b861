package testcluster

import (
	"path/filepath"
	"strconv"
)

// etcdArgs configures a single-member etcd on loopback. fsync is off: the
// data only has to outlive API server restarts, not power failures.
func etcdArgs(dir, clientURL string, peerPort int) []string {
	peerURL := "http://127.0.0.1:" + strconv.Itoa(peerPort)
	return []string{
		"--name=testcluster",
		"--data-dir=" + filepath.Join(dir, "etcd"),
		"--listen-client-urls=" + clientURL,
		"--advertise-client-urls=" + clientURL,
		"--listen-peer-urls=" + peerURL,
		"--initial-advertise-peer-urls=" + peerURL,
		"--initial-cluster=testcluster=" + peerURL,
		"--unsafe-no-fsync=true",
		"--log-level=warn",
	}
}

// apiserverArgs configures kube-apiserver: client-certificate
// authentication against the test CA, RBAC authorization, and service-account
// tokens signed with the generated key. The endpoint reconciler is off
// because Endpoints may not hold a loopback address.
func apiserverArgs(p *pki, etcdURL string, port int) []string {
	return []string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(port),
		"--advertise-address=127.0.0.1",
		"--endpoint-reconciler-type=none",
		"--tls-cert-file=" + p.servingCert,
		"--tls-private-key-file=" + p.servingKey,
		"--client-ca-file=" + p.caCert,
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + p.saKey,
		"--service-account-signing-key-file=" + p.saKey,
		"--service-cluster-ip-range=10.96.0.0/16",
		"--allow-privileged=true",
		"--profiling=false",
		"--v=1",
	}
}

// controllerManagerArgs configures kube-controller-manager with every
// default controller, signing service-account tokens with the API server's
// key and publishing the test CA as kube-root-ca.crt.
func controllerManagerArgs(p *pki, kubeconfig string) []string {
	return []string{
		"--kubeconfig=" + kubeconfig,
		"--service-account-private-key-file=" + p.saKey,
		"--root-ca-file=" + p.caCert,
		"--leader-elect=false",
		"--secure-port=0",
		"--profiling=false",
		"--v=1",
	}
}

func schedulerArgs(kubeconfig string) []string {
	return []string{
		"--kubeconfig=" + kubeconfig,
		"--leader-elect=false",
		"--secure-port=0",
		"--profiling=false",
		"--v=1",
	}
}

// kwokArgs makes kwok the kubelet of every node annotated
// kwok.x-k8s.io/node=fake, with the Stage objects of stages.yaml. Pod IPs
// come from a /16 so that thousands of pods fit (the default is a /24); they
// are data only, nothing listens there, so never connect to them (nor proxy
// through the API server to them). Nodes get InternalIP 127.0.0.1, so that an
// API-server proxy request to a node (kubectl logs) stays on loopback and is
// refused.
func kwokArgs(kubeconfig, config string) []string {
	return []string{
		"--kubeconfig=" + kubeconfig,
		"--config=" + config,
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector=" + NodeAnnotation + "=fake",
		"--cidr=10.0.0.0/16",
		"--node-ip=127.0.0.1",
		"--node-lease-duration-seconds=40",
	}
}
