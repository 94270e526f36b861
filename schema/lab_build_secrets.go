package schema

import (
	"slices"
)

// labSecretData assembles the data of the lab's {u}-nb Secret (§3.2 step
// 6): every lab.secrets key copied from its source Secret, plus token. The
// source Secrets are checked in sorted name order, then the keys in
// configuration order, so the first missing one is reported as the original
// reports it.
func (c *Config) labSecretData(req LabRequest) (map[string][]byte, error) {
	names := make([]string, 0, len(c.Lab.Secrets))
	for _, s := range c.Lab.Secrets {
		names = append(names, s.SecretName)
	}
	slices.Sort(names)
	for _, name := range slices.Compact(names) {
		if _, ok := req.Secrets[name]; !ok {
			return nil, missingSecret("Secret %s/%s does not exist", req.Namespace, name)
		}
	}
	data := make(map[string][]byte, len(c.Lab.Secrets)+1)
	for _, s := range c.Lab.Secrets {
		v, ok := req.Secrets[s.SecretName][s.SecretKey]
		if !ok {
			return nil, missingSecret("No key %s in secret %s/%s", s.SecretKey, req.Namespace, s.SecretName)
		}
		data[s.SecretKey] = v
	}
	data["token"] = []byte(req.Token)
	return data, nil
}

// labPullSecret returns the copy of lab.pullSecret (§3.2 step 7): nil when
// unset, an error when set but req has no such Secret.
func (c *Config) labPullSecret(req LabRequest) (*SecretCopy, error) {
	if c.Lab.PullSecret == "" {
		return nil, nil
	}
	if req.PullSecret == nil {
		return nil, missingSecret("Secret %s/%s does not exist", req.Namespace, c.Lab.PullSecret)
	}
	return req.PullSecret, nil
}
