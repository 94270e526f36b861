package schema

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestLabSizeLabel(t *testing.T) {
	cases := map[string]struct {
		size LabSize
		want string
	}{
		"Small": {
			size: LabSize{Size: "small", Resources: Resources{Limits: ResourceValues{CPU: 1, Memory: 3 << 30}}},
			want: "Small (1.0 CPU, 3Gi RAM)",
		},
		"Fractional": {
			size: LabSize{Size: "tiny", Resources: Resources{Limits: ResourceValues{CPU: 0.5, Memory: 1536 << 20}}},
			want: "Tiny (0.5 CPU, 1.5Gi RAM)",
		},
		"OddBytes": {
			size: LabSize{Size: "huge", Resources: Resources{Limits: ResourceValues{CPU: 12, Memory: 123456789}}},
			want: "Huge (12.0 CPU, 117.738Mi RAM)",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.size.Label(), "Label()")
		})
	}
}
