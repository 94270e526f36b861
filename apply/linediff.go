package apply

import (
	"fmt"
	"strings"
)

// edit is one line of an edit script: ' ' kept, '-' removed, '+' added.
type edit struct {
	op   byte
	line string
}

// lineEdits returns an edit script turning a into b with the fewest
// changed lines (longest common subsequence), after matching the common
// prefix and suffix directly.
func lineEdits(a, b []string) []edit {
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	edits := make([]edit, 0, len(a)+len(b))
	for _, l := range a[:pre] {
		edits = append(edits, edit{' ', l})
	}
	edits = append(edits, lcsEdits(a[pre:len(a)-suf], b[pre:len(b)-suf])...)
	for _, l := range a[len(a)-suf:] {
		edits = append(edits, edit{' ', l})
	}
	return edits
}

// lcsEdits is the dynamic-programming core of lineEdits.
func lcsEdits(a, b []string) []edit {
	n, m := len(a), len(b)
	// l[i][j] = length of the LCS of a[i:] and b[j:].
	l := make([][]int32, n+1)
	for i := range l {
		l[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				l[i][j] = l[i+1][j+1] + 1
			} else {
				l[i][j] = max(l[i+1][j], l[i][j+1])
			}
		}
	}
	var edits []edit
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			edits = append(edits, edit{' ', a[i]})
			i, j = i+1, j+1
		case i < n && (j == m || l[i+1][j] >= l[i][j+1]):
			edits = append(edits, edit{'-', a[i]})
			i++
		default:
			edits = append(edits, edit{'+', b[j]})
			j++
		}
	}
	return edits
}

// unifiedDiff returns a unified diff (3 lines of context) from text a,
// named from, to text b, named to; "" when they are equal.
func unifiedDiff(from, to, a, b string) string {
	if a == b {
		return ""
	}
	edits := lineEdits(splitLines(a), splitLines(b))
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", from, to)
	const context = 3
	for start := 0; start < len(edits); {
		// Find the next change.
		for start < len(edits) && edits[start].op == ' ' {
			start++
		}
		if start == len(edits) {
			break
		}
		lo := max(start-context, 0)
		// Extend the hunk while changes are within 2*context lines.
		end, kept := start, 0
		for k := start; k < len(edits); k++ {
			if edits[k].op == ' ' {
				kept++
				if kept > 2*context {
					break
				}
				continue
			}
			kept, end = 0, k
		}
		hi := min(end+1+context, len(edits))
		writeHunk(&out, edits, lo, hi)
		start = hi
	}
	return out.String()
}

// writeHunk writes edits[lo:hi] as one hunk with its header.
func writeHunk(out *strings.Builder, edits []edit, lo, hi int) {
	aStart, bStart := 1, 1
	for _, e := range edits[:lo] {
		if e.op != '+' {
			aStart++
		}
		if e.op != '-' {
			bStart++
		}
	}
	aLen, bLen := 0, 0
	for _, e := range edits[lo:hi] {
		if e.op != '+' {
			aLen++
		}
		if e.op != '-' {
			bLen++
		}
	}
	fmt.Fprintf(out, "@@ -%s +%s @@\n", hunkRange(aStart, aLen), hunkRange(bStart, bLen))
	for _, e := range edits[lo:hi] {
		out.WriteByte(e.op)
		out.WriteString(e.line)
		out.WriteByte('\n')
	}
}

// hunkRange formats a hunk range as diff does: "start,len", with start one
// before the hunk for an empty range.
func hunkRange(start, n int) string {
	if n == 0 {
		return fmt.Sprintf("%d,0", start-1)
	}
	if n == 1 {
		return fmt.Sprintf("%d", start)
	}
	return fmt.Sprintf("%d,%d", start, n)
}

// splitLines splits text into lines without their newlines.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}
