// Package kwatch bounds the watch requests of the controller's informers
// so that a watch that went silent (a dead connection the API server
// cannot close, a load balancer or proxy that swallows the stream) is
// noticed and replaced within watchReconnectTimeout.
//
// [Bounded] wraps the function that opens a watch request: each request
// asks the API server to end it after the timeout (timeoutSeconds) and is
// also ended on the client side, cleanly, a little earlier
// ([Lifetime]): the result channel closes without an error event, so
// that client-go's reflector watches again at once from its last
// resourceVersion, with no back-off and no new list. A stalled stream
// therefore costs at most [Lifetime] plus one request before the
// informer sees changes again. [ListWatch] is the list-and-watch of an
// informer over a dynamic resource with a label selector; [Informer]
// builds the controller's informers over it, [Handler] passes their
// notifications on as objects and [Cached] reads their caches.
package kwatch
