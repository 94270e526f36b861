// Package devstack is the development stack of `make run`: the services
// around the controller that a Science Platform provides, served on
// loopback so that `nublado serve` runs unchanged on a laptop against the
// local control plane.
//
//   - A Docker registry: go-containerregistry's in-memory registry over
//     HTTPS, with a certificate from a CA generated at start (written to a
//     file: point SSL_CERT_FILE at it and the controller's production
//     registry client trusts it), behind Basic authentication with
//     credentials written in the .dockerconfigjson format that the
//     controller reads from images.dockerCredentialsPath. It holds a small
//     RSP-style repository ([DefaultTags]): releases, weeklies, dailies,
//     the recommended alias, latest aliases and arch-specific tags.
//   - A Gafaelfawr stand-in: GET /auth/api/v1/user-info answers for the
//     users of a YAML file ([LoadUsers]); the bearer token is the user's
//     name, any other token is refused with 401.
//   - A Repertoire stand-in: GET /repertoire/discovery returns a discovery
//     document whose Gafaelfawr URL points at the stand-in.
//
// With a Kubernetes client ([Seed]) it also prepares the cluster as the
// Phalanx chart and the kubelets of a real one would: the controller's
// namespace with a stand-in controller pod (whose name, namespace and uid
// it writes as the pod-metadata files the controller reads from
// metadataPath), the pull secret, the file servers' namespace, and
// status.images of the nodes so that some images count as prepulled. The
// devstack command ([Run]) then also runs the stand-in for Gafaelfawr's
// operator (testcluster.StartGafaelfawrOperator), so that file servers
// become ready.
package devstack
