// Package events holds the progress events of lab operations: the
// multi-reader, append-only [Queue] that the lab manager keeps per user
// (spec §4.3) and [Serve], the Server-Sent Events stream of
// GET {p}/spawner/v1/labs/{username}/events (§1.3 #8).
//
// A Queue has one writer (the running operation) and any number of readers.
// Every reader sees every event of the current generation from the first
// one, in order, then follows new events live. Close ends the generation:
// readers drain what was queued and finish. Clear also ends the generation
// and starts a new, empty one for the next operation; readers of the old
// generation still get the events queued before the Clear. The writer never
// waits for readers, and a slow reader never delays another: readers share
// the immutable event slice and are woken by closing a channel.
//
// The wire format of a stream is sse-starlette's with Python's json.dumps
// spacing, which the JupyterHub spawner and the conformance fixtures expect:
//
//	event: info\r\n
//	data: {"message": "Starting lab creation for rachel", "progress": 1}\r\n
//	\r\n
package events
