package gafaelfawr

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkUserInfoCached is the cost of the user dependency once a
// token's answer is cached, with a full cache of 1,000 tokens.
func BenchmarkUserInfoCached(b *testing.B) {
	f := newFakeServices(b)
	for i := range DefaultCacheSize {
		f.users[fmt.Sprint("tok-", i)] = fmt.Sprintf(`{"username":"u%d"}`, i)
	}
	c := f.client()
	ctx := context.Background()
	for i := range DefaultCacheSize {
		if _, err := c.UserInfo(ctx, fmt.Sprint("tok-", i)); err != nil {
			b.Fatal(err)
		}
	}
	i := 0
	for b.Loop() {
		if _, err := c.UserInfo(ctx, fmt.Sprint("tok-", i%DefaultCacheSize)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
