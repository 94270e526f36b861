//go:build tools

// Package tools pins modules that the build needs before (or besides) any
// ordinary package imports them: the k8s.io/api packages that `cue get go`
// reads for cue.mod/gen (it only works on packages imported by the module) and
// the project's chosen libraries, so
// that parallel work on separate packages does not fight over go.mod.
package tools

import (
	_ "cloud.google.com/go/artifactregistry/apiv1"
	_ "github.com/go-chi/chi/v5"
	_ "github.com/google/go-containerregistry/pkg/registry"
	_ "github.com/hashicorp/go-multierror"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "gotest.tools/v3/golden"
	_ "k8s.io/api/batch/v1"
	_ "k8s.io/api/core/v1"
	_ "k8s.io/api/networking/v1"
	_ "k8s.io/client-go/dynamic"
	_ "sigs.k8s.io/cli-utils/pkg/kstatus/status"
	_ "sigs.k8s.io/kustomize/api/krusty"
	_ "sigs.k8s.io/yaml"
)
