package apply

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestUnifiedDiff(t *testing.T) {
	lines := func(n int, prefix string) string {
		var b strings.Builder
		for i := range n {
			b.WriteString(prefix)
			b.WriteByte(byte('a' + i))
			b.WriteByte('\n')
		}
		return b.String()
	}
	cases := map[string]struct {
		a, b, want string
	}{
		"equal": {a: "x\ny\n", b: "x\ny\n", want: ""},
		"from nothing": {a: "", b: "x\ny\n", want: `--- A
+++ B
@@ -0,0 +1,2 @@
+x
+y
`},
		"to nothing": {a: "x\n", b: "", want: `--- A
+++ B
@@ -1 +0,0 @@
-x
`},
		"one change in the middle": {
			a: lines(10, ""),
			b: strings.Replace(lines(10, ""), "e\n", "E\n", 1),
			want: `--- A
+++ B
@@ -2,7 +2,7 @@
 b
 c
 d
-e
+E
 f
 g
 h
`},
		"two hunks": {
			a: lines(20, ""),
			b: strings.Replace(strings.Replace(lines(20, ""), "b\n", "B\n", 1), "s\n", "S\n", 1),
			want: `--- A
+++ B
@@ -1,5 +1,5 @@
 a
-b
+B
 c
 d
 e
@@ -16,5 +16,5 @@
 p
 q
 r
-s
+S
 t
`},
		"nearby changes share a hunk": {
			a: lines(12, ""),
			b: strings.Replace(strings.Replace(lines(12, ""), "c\n", "C\n", 1), "i\n", "", 1),
			want: `--- A
+++ B
@@ -1,12 +1,11 @@
 a
 b
-c
+C
 d
 e
 f
 g
 h
-i
 j
 k
 l
`},
		"insertion": {a: "a\nb\n", b: "a\nx\nb\n", want: `--- A
+++ B
@@ -1,2 +1,3 @@
 a
+x
 b
`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := unifiedDiff("A", "B", tc.a, tc.b)
			assert.Equal(t, tc.want, got, "unifiedDiff: -want +got")
		})
	}
}
