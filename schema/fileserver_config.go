package schema

// dropDisabledFileserver keeps only enabled and pathPrefix of a fileserver
// section that does not enable file servers: Nublado ignores its other
// keys (§2.5), which the schema therefore neither checks nor converts
// (a memory of "512Mi" stays a string that Config cannot hold).
func dropDisabledFileserver(tree map[string]any) {
	fs, _ := tree["fileserver"].(map[string]any)
	if fs == nil || fs["enabled"] == true {
		return
	}
	for k := range fs {
		if k != "enabled" && k != "pathPrefix" {
			delete(fs, k)
		}
	}
}
