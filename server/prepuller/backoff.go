package prepuller

import "sync"

// DefaultMaxBackoffRounds is the default of [WithMaxBackoffRounds].
const DefaultMaxBackoffRounds = 7

// pullKey is one image (by digest) on one node.
type pullKey struct {
	node, digest string
}

// backoff tracks failed prepulls (decision D13). After the n-th failure in
// a row of an image on a node, the next 2^(n-1)-1 rounds (at most max)
// leave that pair out: the first retry comes in the next round, the
// second one round later, then three, seven, ... A success forgets the
// pair. It is safe for concurrent use.
type backoff struct {
	max int

	mu      sync.Mutex
	entries map[pullKey]*backoffEntry
}

type backoffEntry struct {
	failures int // failures in a row
	skip     int // rounds still to skip
}

func newBackoff(maxRounds int) *backoff {
	return &backoff{max: maxRounds, entries: map[pullKey]*backoffEntry{}}
}

// due reports whether this round may try the pair; a pair it may not has
// one round fewer to wait. Call it once per pair and round.
func (b *backoff) due(k pullKey) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.entries[k]
	if !ok || e.skip == 0 {
		return true
	}
	e.skip--
	return false
}

// failed records a failure and returns the rounds to skip before the
// next try.
func (b *backoff) failed(k pullKey) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.entries[k]
	if !ok {
		e = &backoffEntry{}
		b.entries[k] = e
	}
	e.failures++
	e.skip = b.max
	if e.failures <= 31 {
		e.skip = min(1<<(e.failures-1)-1, b.max)
	}
	return e.skip
}

// succeeded forgets the pair.
func (b *backoff) succeeded(k pullKey) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.entries, k)
}

// retain forgets every pair that keep does not hold: images that left the
// prepull set or arrived on the node by other means, and nodes that went
// away or became ineligible.
func (b *backoff) retain(keep map[pullKey]bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for k := range b.entries {
		if !keep[k] {
			delete(b.entries, k)
		}
	}
}
