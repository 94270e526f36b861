package events_test

import (
	"context"
	"io"
	"sync"
	"testing"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/server/events"
)

func BenchmarkFrame(b *testing.B) {
	ev := info("Pod requested for rachel: pulling image lighthouse.ceres/library/sketchbook:w_2077_43", 35)
	for b.Loop() {
		_ = events.Frame(ev)
	}
}

// BenchmarkAppend500Readers appends b.N events while 500 readers follow
// the queue live, then waits for them all to finish.
func BenchmarkAppend500Readers(b *testing.B) {
	q := events.NewQueue()
	var wg sync.WaitGroup
	for range 500 {
		r := q.Reader()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if _, err := r.Next(context.Background()); err == io.EOF {
					return
				}
			}
		}()
	}
	ev := nublado.Event{Type: nublado.EventInfo, Message: "progress", Progress: 50}
	b.ResetTimer()
	for range b.N {
		q.Append(ev)
	}
	q.Close()
	wg.Wait()
}
