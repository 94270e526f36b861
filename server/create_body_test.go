package server

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	nublado "github.com/nublado-go/nublado"
)

func TestParseCreateBody(t *testing.T) {
	got, err := ParseCreateBody([]byte(withOptions(`{"image_list": ["use_image_from_dropdown"], "image_dropdown": ["` +
		imageRef + `"], "size": ["Small"], "reset_user_env": true}`)))
	require.NoError(t, err, "ParseCreateBody")
	assert.Equal(t, nublado.CreateRequest{
		Size: "small", ResetUserEnv: true, Env: prefixEnv,
		Image: nublado.ImageRequest{Attribute: nublado.ImageDropdown, Value: imageRef},
	}, got)
}

func TestParseCreateBodyErrors(t *testing.T) {
	cases := map[string]struct {
		body string
		want []FieldError
	}{
		"Empty": {
			body: "  ",
			want: []FieldError{{Type: "missing", Loc: loc("body"), Msg: "Field required"}},
		},
		"NotJSON": {
			body: `{"options": `,
			want: []FieldError{{Type: "json_invalid", Loc: loc("body", int64(12)), Msg: "JSON decode error",
				Input: map[string]any{}, Ctx: map[string]any{"error": "unexpected EOF"}}},
		},
		// Positions as Python's JSONDecodeError.pos reports them.
		"SyntaxErrorValue": {
			body: `{"options": }`,
			want: []FieldError{{Type: "json_invalid", Loc: loc("body", int64(12)), Msg: "JSON decode error",
				Input: map[string]any{}, Ctx: map[string]any{"error": "invalid character '}' looking for beginning of value"}}},
		},
		"SyntaxErrorColon": {
			body: `{"a" 1}`,
			want: []FieldError{{Type: "json_invalid", Loc: loc("body", int64(5)), Msg: "JSON decode error",
				Input: map[string]any{}, Ctx: map[string]any{"error": "invalid character '1' after object key"}}},
		},
		"SyntaxErrorLiteral": {
			body: `{"a":tru}`,
			want: []FieldError{{Type: "json_invalid", Loc: loc("body", int64(5)), Msg: "JSON decode error",
				Input: map[string]any{}, Ctx: map[string]any{"error": "invalid character '}' in literal true (expecting 'e')"}}},
		},
		"NoServicePrefix": {
			body: `{"options": {"image_tag": "w_2077_43", "size": "small"}, "env": {}}`,
			want: []FieldError{{Type: "value_error", Loc: loc("body", "env"), Msg: "Value error, JUPYTERHUB_SERVICE_PREFIX must be set",
				Input: newObject(), Ctx: map[string]any{"error": map[string]any{}}}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := ParseCreateBody([]byte(tc.body))
			var verr *ValidationError
			require.ErrorAs(t, err, &verr, "ParseCreateBody(%q)", tc.body)
			assert.Equal(t, tc.want, verr.Detail, "ParseCreateBody(%q): -want +got", tc.body)
		})
	}
}
