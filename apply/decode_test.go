package apply_test

import (
	"strings"
	"testing"

	"github.com/nublado-go/nublado/apply"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecode(t *testing.T) {
	cases := map[string]struct {
		in   string
		want []string // "Kind name"
	}{
		"yaml stream": {
			in:   "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: b}\n",
			want: []string{"ConfigMap a", "Secret b"},
		},
		"json array": {
			in:   `[{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}},{"apiVersion":"v1","kind":"Pod","metadata":{"name":"b"}}]`,
			want: []string{"ConfigMap a", "Pod b"},
		},
		"json object": {
			in:   `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}}`,
			want: []string{"ConfigMap a"},
		},
		"list": {
			in:   "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n- {apiVersion: v1, kind: Service, metadata: {name: b}}\n",
			want: []string{"ConfigMap a", "Service b"},
		},
		"empty": {in: "", want: nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			objs, err := apply.Decode(strings.NewReader(tc.in))
			require.NoError(t, err, "Decode")
			var got []string
			for _, o := range objs {
				got = append(got, o.GetKind()+" "+o.GetName())
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestDecodeIntegers(t *testing.T) {
	objs, err := apply.Decode(strings.NewReader("apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {ports: [{port: 80}]}\n"))
	require.NoError(t, err)
	ports := objs[0].Object["spec"].(map[string]any)["ports"].([]any)
	assert.Equal(t, int64(80), ports[0].(map[string]any)["port"], "integers are int64")
}

func TestDecodeErrors(t *testing.T) {
	cases := map[string]string{
		"no kind":     "apiVersion: v1\nmetadata: {name: a}\n",
		"not objects": "- 1\n- 2\n",
		"bad yaml":    "apiVersion: v1\nkind: [\n",
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := apply.Decode(strings.NewReader(in))
			assert.Error(t, err, "Decode(%q)", in)
		})
	}
}
