package schema

import (
	"reflect"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// omitEmptyAffinities leaves the empty lists and maps out of the configured
// affinities (§2.8: "Empty lists/maps are omitted in output"). The schema's
// defaults (PodAffinityTerm.namespaces = []) decode into empty, non-nil
// slices, which the render engine would otherwise copy into the objects as
// namespaces: [].
func omitEmptyAffinities(cfg *Config) {
	for _, a := range []*corev1.Affinity{cfg.Lab.Affinity, cfg.Fileserver.Affinity, cfg.FSAdmin.Affinity} {
		if a != nil {
			omitEmpty(reflect.ValueOf(a).Elem())
		}
	}
}

// omitEmpty sets every empty slice or map field of v tagged omitempty to
// nil, recursively.
func omitEmpty(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			omitEmpty(v.Elem())
		}
	case reflect.Slice:
		for i := range v.Len() {
			omitEmpty(v.Index(i))
		}
	case reflect.Struct:
		t := v.Type()
		for i := range v.NumField() {
			f := v.Field(i)
			empty := (f.Kind() == reflect.Slice || f.Kind() == reflect.Map) && f.Len() == 0
			if empty && strings.Contains(t.Field(i).Tag.Get("json"), ",omitempty") {
				f.SetZero()
				continue
			}
			omitEmpty(f)
		}
	}
}
