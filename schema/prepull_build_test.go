package schema_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nublado-go/nublado/schema"
)

func TestPrepullPodName(t *testing.T) {
	long := strings.Repeat("n", 250)
	cases := map[string]struct {
		tag, node, want string
	}{
		"Weekly":      {"w_2077_43", "node-1", "prepull-w-2077-43-node-1"},
		"Release":     {"r29.0.1", "node-1", "prepull-r29.0.1-node-1"},
		"Dropped":     {"exp_w_2077_43+local!build", "node-2", "prepull-exp-w-2077-43localbuild-node-2"},
		"KeepsCase":   {"Recommended", "n", "prepull-Recommended-n"},
		"NonASCII":    {"tag_ü", "n", "prepull-tag--n"},
		"Truncated":   {"w_2077_43", long, ("prepull-w-2077-43-" + long)[:253]},
		"JustFits":    {"t", strings.Repeat("n", 253-len("prepull-t-")), "prepull-t-" + strings.Repeat("n", 243)},
		"EmptyResult": {"+++", "n", "prepull--n"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := schema.PrepullPodName(tc.tag, tc.node)
			assert.Equal(t, tc.want, got, "PrepullPodName(%q, %q)", tc.tag, tc.node)
			assert.LessOrEqual(t, len(got), 253)
		})
	}
}

func TestPrepullInput(t *testing.T) {
	cfg := buildCfg(t, "")
	req := schema.PrepullRequest{
		Namespace: "nublado", OwnerName: "nublado-controller-abc", OwnerUID: "1234-5678",
		Image: "registry.example.org/lab:w_2077_43@sha256:abcd", Tag: "w_2077_43", Node: "node-1",
	}
	in, err := cfg.PrepullInput(req)
	require.NoError(t, err)
	assert.Equal(t, &schema.PrepullInput{
		Name: "prepull-w-2077-43-node-1", Namespace: "nublado",
		Owner: schema.OwnerRef{Name: "nublado-controller-abc", UID: "1234-5678"},
		Image: req.Image, Node: "node-1",
	}, in, "PrepullInput")

	for name, clear := range map[string]func(r *schema.PrepullRequest){
		"Namespace": func(r *schema.PrepullRequest) { r.Namespace = "" },
		"OwnerName": func(r *schema.PrepullRequest) { r.OwnerName = "" },
		"OwnerUID":  func(r *schema.PrepullRequest) { r.OwnerUID = "" },
		"Image":     func(r *schema.PrepullRequest) { r.Image = "" },
		"Tag":       func(r *schema.PrepullRequest) { r.Tag = "" },
		"Node":      func(r *schema.PrepullRequest) { r.Node = "" },
	} {
		t.Run("Without"+name, func(t *testing.T) {
			r := req
			clear(&r)
			_, err := cfg.PrepullInput(r)
			require.ErrorIs(t, err, schema.ErrIncompleteRequest, "PrepullInput without %s", name)
		})
	}
}

func TestReadPodMetadata(t *testing.T) {
	write := func(t *testing.T, files map[string]string) string {
		dir := t.TempDir()
		for name, data := range files {
			require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600))
		}
		return dir
	}
	full := map[string]string{"name": "nublado-controller-abc\n", "namespace": " nublado\n", "uid": "1234-5678"}
	md, err := schema.ReadPodMetadata(write(t, full))
	require.NoError(t, err)
	assert.Equal(t, schema.PodMetadata{Name: "nublado-controller-abc", Namespace: "nublado", UID: "1234-5678"}, md)

	_, err = schema.ReadPodMetadata(write(t, map[string]string{"name": "a", "namespace": "b"}))
	require.ErrorIs(t, err, fs.ErrNotExist, "ReadPodMetadata without uid")

	_, err = schema.ReadPodMetadata(write(t, map[string]string{"name": "a", "namespace": "\n", "uid": "c"}))
	require.ErrorIs(t, err, schema.ErrIncompleteRequest, "ReadPodMetadata with an empty namespace")
}
