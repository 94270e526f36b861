package startup

import (
	"fmt"
	"strings"
)

// iniFile is an INI document as Python's configparser reads and writes it:
// ordered sections of ordered, lower-cased keys.
type iniFile struct {
	sections []*iniSection
}

type iniSection struct {
	name string
	keys []string
	vals map[string]string
}

// parseINI reads text the way configparser does with its defaults: full-line
// comments start with # or ;, keys are lower-cased and split from values at
// the first = or :, indented lines continue the previous value. Unlike
// configparser, a repeated section or key is not an error: the later value
// wins.
func parseINI(name, text string) (*iniFile, error) {
	f := &iniFile{}
	var sec *iniSection
	var key string
	for i, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "":
			key = ""
		case trimmed[0] == '#' || trimmed[0] == ';':
		case key != "" && (line[0] == ' ' || line[0] == '\t'):
			sec.vals[key] += "\n" + trimmed
		case trimmed[0] == '[' && strings.LastIndexByte(trimmed, ']') > 1:
			sec, key = f.section(trimmed[1:strings.LastIndexByte(trimmed, ']')]), ""
		case sec == nil:
			return nil, fmt.Errorf("%s, line %d: key outside of a section", name, i+1)
		default:
			at := strings.IndexAny(trimmed, "=:")
			if at <= 0 {
				return nil, fmt.Errorf("%s, line %d: not a section, key or comment", name, i+1)
			}
			key = strings.ToLower(strings.TrimSpace(trimmed[:at]))
			sec.set(key, strings.TrimSpace(trimmed[at+1:]))
		}
	}
	return f, nil
}

// section returns the section called name, appending it if new.
func (f *iniFile) section(name string) *iniSection {
	for _, s := range f.sections {
		if s.name == name {
			return s
		}
	}
	s := &iniSection{name: name, vals: map[string]string{}}
	f.sections = append(f.sections, s)
	return s
}

func (s *iniSection) set(key, val string) {
	if _, ok := s.vals[key]; !ok {
		s.keys = append(s.keys, key)
	}
	s.vals[key] = val
}

// replaceSections puts every section of other into f, replacing the content
// of a section of the same name in place and appending new ones.
func (f *iniFile) replaceSections(other *iniFile) {
	for _, o := range other.sections {
		s := f.section(o.name)
		s.keys, s.vals = nil, map[string]string{}
		for _, k := range o.keys {
			s.set(k, o.vals[k])
		}
	}
}

// String writes f as configparser does: "key = value" lines, continuation
// lines indented by a tab, a blank line after each section.
func (f *iniFile) String() string {
	var b strings.Builder
	for _, s := range f.sections {
		fmt.Fprintf(&b, "[%s]\n", s.name)
		for _, k := range s.keys {
			fmt.Fprintf(&b, "%s = %s\n", k, strings.ReplaceAll(s.vals[k], "\n", "\n\t"))
		}
		b.WriteString("\n")
	}
	return b.String()
}
