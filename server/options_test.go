package server

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	nublado "github.com/nublado-go/nublado"
)

// parse decodes a JSON body as readBody does.
func parse(t *testing.T, body string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber()
	v, err := decodeValue(dec, 0)
	require.NoError(t, err, "decoding %s", body)
	return v
}

const imageRef = "lighthouse.ceres/library/sketchbook:w_2077_43@sha256:5678"

var prefixEnv = map[string]string{"JUPYTERHUB_SERVICE_PREFIX": "/nb/user/rachel/"}

func withOptions(opts string) string {
	return `{"options": ` + opts + `, "env": {"JUPYTERHUB_SERVICE_PREFIX": "/nb/user/rachel/"}}`
}

// TestParseLabSpecValid covers the accepted forms of JupyterHub's form
// data (the options cases of Nublado's lab_test.py).
func TestParseLabSpecValid(t *testing.T) {
	cases := map[string]struct {
		body string
		want labSpec
	}{
		"Scalars": {
			body: withOptions(`{"image_list": "` + imageRef + `", "size": "small"}`),
			want: labSpec{Size: "small", Image: nublado.ImageRequest{Attribute: "image_list", Value: imageRef}},
		},
		"Lists": {
			body: withOptions(`{"image_list": ["` + imageRef + `"], "size": ["medium"], "enable_debug": ["true"], "reset_user_env": ["false"]}`),
			want: labSpec{Size: "medium", EnableDebug: true, Image: nublado.ImageRequest{Attribute: "image_list", Value: imageRef}},
		},
		"DropdownSentinel": {
			body: withOptions(`{"image_list": ["use_image_from_dropdown"], "image_dropdown": ["` + imageRef + `"], "size": ["small"]}`),
			want: labSpec{Size: "small", Image: nublado.ImageRequest{Attribute: "image_dropdown", Value: imageRef}},
		},
		"ListWinsOverDropdown": {
			body: withOptions(`{"image_list": ["` + imageRef + `"], "image_dropdown": ["other/image:tag"], "size": ["small"]}`),
			want: labSpec{Size: "small", Image: nublado.ImageRequest{Attribute: "image_list", Value: imageRef}},
		},
		"EmptyListStringIsAbsent": {
			body: withOptions(`{"image_list": "", "image_dropdown": "` + imageRef + `", "size": "small"}`),
			want: labSpec{Size: "small", Image: nublado.ImageRequest{Attribute: "image_dropdown", Value: imageRef}},
		},
		"SizeLowerCased": {
			body: withOptions(`{"image_class": "recommended", "size": "Large"}`),
			want: labSpec{Size: "large", Image: nublado.ImageRequest{Attribute: "image_class", Value: "recommended"}},
		},
		"JSONBooleans": {
			body: withOptions(`{"image_tag": "w_2077_43", "size": "small", "enable_debug": true, "reset_user_env": true}`),
			want: labSpec{Size: "small", EnableDebug: true, ResetUserEnv: true, Image: nublado.ImageRequest{Attribute: "image_tag", Value: "w_2077_43"}},
		},
		"StringBooleans": {
			body: withOptions(`{"image_tag": "w_2077_43", "size": "small", "enable_debug": "false", "reset_user_env": "true"}`),
			want: labSpec{Size: "small", ResetUserEnv: true, Image: nublado.ImageRequest{Attribute: "image_tag", Value: "w_2077_43"}},
		},
		"NullAndEmptyListDropped": {
			body: withOptions(`{"image_tag": "w_2077_43", "image_list": null, "image_class": [], "size": "small", "enable_debug": null, "unknown": [1]}`),
			want: labSpec{Size: "small", Image: nublado.ImageRequest{Attribute: "image_tag", Value: "w_2077_43"}},
		},
		"UnknownKeysIgnored": {
			body: `{"options": {"image_tag": "t", "size": "small", "extra": "x"}, "env": {"JUPYTERHUB_SERVICE_PREFIX": "/nb/user/rachel/"}, "other": 1}`,
			want: labSpec{Size: "small", Image: nublado.ImageRequest{Attribute: "image_tag", Value: "t"}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, errs := parseLabSpec(parse(t, tc.body))
			require.Empty(t, errs, "parseLabSpec(%s)", tc.body)
			tc.want.Env = prefixEnv
			assert.Equal(t, tc.want, got, "parseLabSpec(%s): -want +got", tc.body)
		})
	}
}

// TestParseLabSpecInvalid checks each rejected body's 422 detail list.
func TestParseLabSpecInvalid(t *testing.T) {
	sizeEnum := `'fine', 'diminutive', 'tiny', 'small', 'medium', 'large', 'huge', 'gargantuan', 'colossal' or 'custom'`
	cases := map[string]struct {
		body any // a JSON string, or nil for no body
		want string
	}{
		"NoBody": {
			body: nil,
			want: `[{"type":"missing","loc":["body"],"msg":"Field required","input":null}]`,
		},
		"BodyNotObject": {
			body: `[1]`,
			want: `[{"type":"model_attributes_type","loc":["body"],"msg":"Input should be a valid dictionary or object to extract fields from","input":[1]}]`,
		},
		"MissingOptionsAndEnv": {
			body: `{}`,
			want: `[{"type":"missing","loc":["body","options"],"msg":"Field required","input":{}},
			        {"type":"missing","loc":["body","env"],"msg":"Field required","input":{}}]`,
		},
		"NoServicePrefix": {
			body: `{"options": {"image_tag": "t", "size": "small"}, "env": {"FOO": "bar"}}`,
			want: `[{"type":"value_error","loc":["body","env"],"msg":"Value error, JUPYTERHUB_SERVICE_PREFIX must be set","input":{"FOO":"bar"},"ctx":{"error":{}}}]`,
		},
		"EnvNotObject": {
			body: `{"options": {"image_tag": "t", "size": "small"}, "env": ["x"]}`,
			want: `[{"type":"dict_type","loc":["body","env"],"msg":"Input should be a valid dictionary","input":["x"]}]`,
		},
		"EnvValueNotString": {
			body: `{"options": {"image_tag": "t", "size": "small"}, "env": {"JUPYTERHUB_SERVICE_PREFIX": "/", "N": 5}}`,
			want: `[{"type":"string_type","loc":["body","env","N"],"msg":"Input should be a valid string","input":5}]`,
		},
		"OptionsNotObject": {
			body: withOptions(`"small"`),
			want: `[{"type":"model_attributes_type","loc":["body","options"],"msg":"Input should be a valid dictionary or object to extract fields from","input":"small"}]`,
		},
		"TooManyValues": {
			body: withOptions(`{"image_tag": ["a", "b"], "size": ["small", "large"]}`),
			want: `[{"type":"value_error","loc":["body","options"],"msg":"Value error, Too many values for image_tag",
			        "input":{"image_tag":["a","b"],"size":["small","large"]},"ctx":{"error":{}}}]`,
		},
		"MissingSize": {
			body: withOptions(`{"image_tag": ["t"]}`),
			want: `[{"type":"missing","loc":["body","options","size"],"msg":"Field required","input":{"image_tag":"t"}}]`,
		},
		"UnknownSize": {
			body: withOptions(`{"image_tag": "t", "size": "Enormous"}`),
			want: `[{"type":"enum","loc":["body","options","size"],"msg":"Input should be ` + sizeEnum + `","input":"enormous","ctx":{"expected":"` + sizeEnum + `"}}]`,
		},
		"SizeNotString": {
			body: withOptions(`{"image_tag": "t", "size": 3}`),
			want: `[{"type":"enum","loc":["body","options","size"],"msg":"Input should be ` + sizeEnum + `","input":3,"ctx":{"expected":"` + sizeEnum + `"}}]`,
		},
		"BooleanOn": {
			body: withOptions(`{"image_tag": "t", "size": "small", "enable_debug": "on"}`),
			want: `[{"type":"value_error","loc":["body","options","enable_debug"],"msg":"Value error, Invalid boolean value on","input":"on","ctx":{"error":{}}}]`,
		},
		"BooleanCase": {
			body: withOptions(`{"image_tag": "t", "size": "small", "reset_user_env": ["True"]}`),
			want: `[{"type":"value_error","loc":["body","options","reset_user_env"],"msg":"Value error, Invalid boolean value True","input":"True","ctx":{"error":{}}}]`,
		},
		"BooleanNumber": {
			body: withOptions(`{"image_tag": "t", "size": "small", "enable_debug": 1}`),
			want: `[{"type":"value_error","loc":["body","options","enable_debug"],"msg":"Value error, Invalid boolean value 1","input":1,"ctx":{"error":{}}}]`,
		},
		"NoImage": {
			body: withOptions(`{"size": "small", "image_list": "use_image_from_dropdown", "image_dropdown": "", "image_tag": ""}`),
			want: `[{"type":"value_error","loc":["body","options"],"msg":"Value error, No image to spawn specified",
			        "input":{"size":"small","image_list":"use_image_from_dropdown","image_dropdown":"","image_tag":""},"ctx":{"error":{}}}]`,
		},
		"MultipleImages": {
			body: withOptions(`{"size": "small", "image_tag": "t", "image_list": "` + imageRef + `", "image_class": "latest-weekly"}`),
			want: `[{"type":"value_error","loc":["body","options"],"msg":"Value error, Image specified multiple ways (image_class, image_list, image_tag)",
			        "input":{"size":"small","image_tag":"t","image_list":"` + imageRef + `","image_class":"latest-weekly"},"ctx":{"error":{}}}]`,
		},
		"DropdownAndTag": {
			body: withOptions(`{"size": "small", "image_tag": "t", "image_dropdown": "` + imageRef + `"}`),
			want: `[{"type":"value_error","loc":["body","options"],"msg":"Value error, Image specified multiple ways (image_dropdown, image_tag)",
			        "input":{"size":"small","image_tag":"t","image_dropdown":"` + imageRef + `"},"ctx":{"error":{}}}]`,
		},
		"UnknownImageClass": {
			body: withOptions(`{"size": "small", "image_class": "latest"}`),
			want: `[{"type":"enum","loc":["body","options","image_class"],"msg":"Input should be 'recommended', 'latest-release', 'latest-weekly' or 'latest-daily'",
			        "input":"latest","ctx":{"expected":"'recommended', 'latest-release', 'latest-weekly' or 'latest-daily'"}}]`,
		},
		"ImageNotString": {
			body: withOptions(`{"size": "small", "image_tag": 5}`),
			want: `[{"type":"string_type","loc":["body","options","image_tag"],"msg":"Input should be a valid string","input":5}]`,
		},
		"ErrorsOfBothFields": {
			body: `{"options": {"size": "x", "enable_debug": "yes"}, "env": {}}`,
			want: `[{"type":"enum","loc":["body","options","size"],"msg":"Input should be ` + sizeEnum + `","input":"x","ctx":{"expected":"` + sizeEnum + `"}},
			        {"type":"value_error","loc":["body","options","enable_debug"],"msg":"Value error, Invalid boolean value yes","input":"yes","ctx":{"error":{}}},
			        {"type":"value_error","loc":["body","env"],"msg":"Value error, JUPYTERHUB_SERVICE_PREFIX must be set","input":{},"ctx":{"error":{}}}]`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var body any
			if s, ok := tc.body.(string); ok {
				body = parse(t, s)
			}
			_, errs := parseLabSpec(body)
			got, err := json.Marshal(errs)
			require.NoError(t, err)
			assert.JSONEq(t, tc.want, string(got), "parseLabSpec(%v)", tc.body)
		})
	}
}

func TestObjectKeepsKeyOrder(t *testing.T) {
	v := parse(t, `{"b": 1, "a": {"z": [true, null], "y": "s"}, "c": 1.50}`)
	got, err := json.Marshal(v)
	require.NoError(t, err)
	assert.Equal(t, `{"b":1,"a":{"z":[true,null],"y":"s"},"c":1.50}`, string(got))
}
