// Command etcd is etcd v3.7.0's server, built from the module proxy for the
// local Kubernetes control plane (see deploy/local/build.sh).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
