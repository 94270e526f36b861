package gafaelfawr

import (
	"container/list"
	"sync"
	"time"

	nublado "github.com/nublado-go/nublado"
)

// cache is a size-bounded, least-recently-used map from token hashes to
// users whose entries expire ttl after they were stored.
type cache struct {
	mu      sync.Mutex
	ttl     time.Duration
	size    int
	order   *list.List // of *entry, most recently used first
	entries map[[32]byte]*list.Element
}

type entry struct {
	key     [32]byte
	user    *nublado.User
	expires time.Time
}

func newCache(ttl time.Duration, size int) *cache {
	return &cache{ttl: ttl, size: size, order: list.New(), entries: map[[32]byte]*list.Element{}}
}

func (c *cache) get(key [32]byte, now time.Time) *nublado.User {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[key]
	if !ok {
		return nil
	}
	e := el.Value.(*entry)
	if !now.Before(e.expires) {
		c.order.Remove(el)
		delete(c.entries, key)
		return nil
	}
	c.order.MoveToFront(el)
	return e.user
}

func (c *cache) put(key [32]byte, u *nublado.User, now time.Time) {
	if c.size <= 0 || c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[key]; ok {
		el.Value = &entry{key: key, user: u, expires: now.Add(c.ttl)}
		c.order.MoveToFront(el)
		return
	}
	for c.order.Len() >= c.size {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.entries, oldest.Value.(*entry).key)
	}
	c.entries[key] = c.order.PushFront(&entry{key: key, user: u, expires: now.Add(c.ttl)})
}

// len returns the number of entries, expired ones included.
func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
