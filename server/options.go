package server

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	nublado "github.com/nublado-go/nublado"
)

// labSizes are the size names the create body accepts (§1.3 #6); whether a
// size is configured is the lab manager's check.
var labSizes = []string{"fine", "diminutive", "tiny", "small", "medium", "large", "huge", "gargantuan", "colossal", "custom"}

// imageClasses are the values of the image_class option.
var imageClasses = []string{"recommended", "latest-release", "latest-weekly", "latest-daily"}

// dropdownSentinel is the image_list value of the form's "Select uncached
// image" radio button: the image then comes from image_dropdown.
const dropdownSentinel = "use_image_from_dropdown"

// labSpec is a validated create body.
type labSpec struct {
	Size         nublado.LabSize
	EnableDebug  bool
	ResetUserEnv bool
	Image        nublado.ImageRequest
	Env          map[string]string
}

// parseLabSpec validates a create body (LabSpecification) as the original
// does and returns every field error at once. body is what readBody
// returned (nil when empty).
func parseLabSpec(body any) (labSpec, []FieldError) {
	var spec labSpec
	if body == nil {
		return spec, []FieldError{missing(nil, "body")}
	}
	obj, ok := body.(*object)
	if !ok {
		return spec, []FieldError{modelType(body, "body")}
	}
	var errs []FieldError
	if v, ok := obj.get("options"); ok {
		errs = append(errs, parseOptions(v, &spec)...)
	} else {
		errs = append(errs, missing(obj, "body", "options"))
	}
	if v, ok := obj.get("env"); ok {
		errs = append(errs, parseEnv(v, &spec)...)
	} else {
		errs = append(errs, missing(obj, "body", "env"))
	}
	return spec, errs
}

// parseEnv validates env: an object of at most MaxEnvKeys strings, named
// as ConfigMap keys, that sets JUPYTERHUB_SERVICE_PREFIX to a path (the
// end of the lab's internal URL, which must not be able to change its
// host).
func parseEnv(v any, spec *labSpec) []FieldError {
	obj, ok := v.(*object)
	if !ok {
		return []FieldError{dictType(v, "body", "env")}
	}
	if err := checkEnvSize(obj); err != nil {
		return []FieldError{*err}
	}
	var errs []FieldError
	env := make(map[string]string, len(obj.keys))
	for _, k := range obj.keys {
		errs = append(errs, checkEnvKey(k)...)
		s, ok := obj.vals[k].(string)
		if !ok {
			errs = append(errs, stringType(obj.vals[k], "body", "env", k))
			continue
		}
		if err := checkEnvValue(k, s); err != nil {
			errs = append(errs, *err)
			continue
		}
		env[k] = s
	}
	if errs != nil {
		return errs
	}
	prefix, ok := env[servicePrefixVar]
	switch {
	case !ok:
		return []FieldError{valueError(obj, servicePrefixVar+" must be set", "body", "env")}
	case !strings.HasPrefix(prefix, "/"):
		return []FieldError{valueError(obj, servicePrefixVar+" must start with /", "body", "env")}
	}
	spec.Env = env
	return nil
}

// servicePrefixVar is the env variable that ends the lab's internal URL.
const servicePrefixVar = "JUPYTERHUB_SERVICE_PREFIX"

// flattenOptions applies the rules for JupyterHub's form data: null and []
// are dropped, one-element lists unwrapped, longer lists rejected.
func flattenOptions(obj *object) (*object, *FieldError) {
	flat := newObject()
	for _, k := range obj.keys {
		v := obj.vals[k]
		if list, ok := v.([]any); ok {
			switch len(list) {
			case 0:
				continue
			case 1:
				v = list[0]
			default:
				e := valueError(obj, "Too many values for "+k, "body", "options")
				return nil, &e
			}
		}
		if v == nil {
			continue
		}
		flat.set(k, v)
	}
	return flat, nil
}

// parseOptions validates the options object (UserOptions).
func parseOptions(v any, spec *labSpec) []FieldError {
	obj, ok := v.(*object)
	if !ok {
		return []FieldError{modelType(v, "body", "options")}
	}
	flat, ferr := flattenOptions(obj)
	if ferr != nil {
		return []FieldError{*ferr}
	}
	var errs []FieldError
	if size, ok := flat.get("size"); !ok {
		errs = append(errs, missing(flat, "body", "options", "size"))
	} else if s, ok := size.(string); ok && slices.Contains(labSizes, strings.ToLower(s)) {
		spec.Size = nublado.LabSize(strings.ToLower(s))
	} else {
		if ok {
			size = strings.ToLower(s)
		}
		errs = append(errs, enumError(size, labSizes, "body", "options", "size"))
	}
	for _, b := range []struct {
		key string
		dst *bool
	}{{"enable_debug", &spec.EnableDebug}, {"reset_user_env", &spec.ResetUserEnv}} {
		if v, ok := flat.get(b.key); ok {
			val, err := parseBool(v, b.key)
			if err != nil {
				errs = append(errs, *err)
			}
			*b.dst = val
		}
	}
	images, imgErrs := imageOptions(flat)
	errs = append(errs, imgErrs...)
	if errs != nil {
		return errs
	}
	req, err := chooseImage(flat, images)
	if err != nil {
		return []FieldError{*err}
	}
	spec.Image = req
	return nil
}

// parseBool accepts a JSON boolean or the strings "true" and "false".
func parseBool(v any, key string) (bool, *FieldError) {
	switch b := v.(type) {
	case bool:
		return b, nil
	case string:
		switch b {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	}
	e := valueError(v, "Invalid boolean value "+pythonStr(v), "body", "options", key)
	return false, &e
}

// pythonStr renders a JSON value roughly as Python's str() would in an
// f-string.
func pythonStr(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case json.Number:
		return t.String()
	default:
		b, _ := marshalValue(v)
		return string(b)
	}
}

// imageOptions returns the image attributes that are set, in the order
// image_list, image_dropdown, image_class, image_tag. Empty strings count
// as unset, as does the dropdown sentinel in image_list.
func imageOptions(flat *object) (map[string]string, []FieldError) {
	set := map[string]string{}
	var errs []FieldError
	for _, key := range []string{nublado.ImageList, nublado.ImageDropdown, nublado.ImageClass, nublado.ImageTag} {
		v, ok := flat.get(key)
		if !ok {
			continue
		}
		s, ok := v.(string)
		switch {
		case !ok:
			errs = append(errs, stringOrEnumError(key, v))
		case s == "" || key == nublado.ImageList && s == dropdownSentinel:
		case key == nublado.ImageClass && !slices.Contains(imageClasses, s):
			errs = append(errs, enumError(s, imageClasses, "body", "options", key))
		default:
			set[key] = s
		}
	}
	return set, errs
}

func stringOrEnumError(key string, v any) FieldError {
	if key == nublado.ImageClass {
		return enumError(v, imageClasses, "body", "options", key)
	}
	return stringType(v, "body", "options", key)
}

// chooseImage applies the precedence rules: image_list wins over
// image_dropdown; otherwise exactly one attribute must be set.
func chooseImage(flat *object, set map[string]string) (nublado.ImageRequest, *FieldError) {
	if _, ok := set[nublado.ImageList]; ok {
		delete(set, nublado.ImageDropdown)
	}
	switch len(set) {
	case 0:
		e := valueError(flat, "No image to spawn specified", "body", "options")
		return nublado.ImageRequest{}, &e
	case 1:
		for k, v := range set {
			return nublado.ImageRequest{Attribute: k, Value: v}, nil
		}
	}
	names := make([]string, 0, len(set))
	for k := range set {
		names = append(names, k)
	}
	slices.Sort(names)
	e := valueError(flat, fmt.Sprintf("Image specified multiple ways (%s)", strings.Join(names, ", ")), "body", "options")
	return nublado.ImageRequest{}, &e
}
