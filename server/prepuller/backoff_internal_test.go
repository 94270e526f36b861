package prepuller

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestBackoff: after the n-th failure in a row a pair skips 2^(n-1)-1
// rounds, at most max; a success forgets it; retain drops pairs that are
// no longer missing.
func TestBackoff(t *testing.T) {
	k := pullKey{node: "a", digest: "sha256:1"}
	b := newBackoff(7)
	assert.True(t, b.due(k), "an unknown pair is due")

	var skips []int
	var pattern []bool // due per round after each failure, until due again
	for range 5 {
		skips = append(skips, b.failed(k))
		for {
			due := b.due(k)
			pattern = append(pattern, due)
			if due {
				break
			}
		}
	}
	assert.Equal(t, []int{0, 1, 3, 7, 7}, skips, "failed: rounds to skip")
	want := []bool{true, false, true, false, false, false, true}
	want = append(want, false, false, false, false, false, false, false, true)
	want = append(want, false, false, false, false, false, false, false, true)
	assert.Equal(t, want, pattern, "due, round after round")

	b.succeeded(k)
	b.failed(k)
	assert.Equal(t, 1, b.failed(k), "a success starts the count again")

	other := pullKey{node: "b", digest: "sha256:1"}
	b.failed(other)
	b.retain(map[pullKey]bool{other: true})
	assert.True(t, b.due(k), "a pair no longer missing is forgotten")
	assert.Len(t, b.entries, 1)
}

// TestBackoffCap: many failures keep the cap, without overflowing the
// shift.
func TestBackoffCap(t *testing.T) {
	k := pullKey{node: "a", digest: "sha256:1"}
	b := newBackoff(3)
	var last int
	for range 100 {
		last = b.failed(k)
	}
	assert.Equal(t, 3, last)
	assert.Equal(t, 0, newBackoff(0).failed(k), "a cap of 0 retries every round")
}
