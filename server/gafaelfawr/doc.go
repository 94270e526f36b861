// Package gafaelfawr is the controller's client of Repertoire service
// discovery and of Gafaelfawr's user-info API (spec §6).
//
// [Client.Discovery] fetches {REPERTOIRE_BASE_URL}/discovery once and keeps
// the first good answer for the life of the process. Gafaelfawr's API base
// is services.internal.gafaelfawr.versions.v1.url of that document.
// [Client.UserInfo] calls {base}/user-info with the user's delegated token
// and caches the answer per token for five minutes (at most 1,000 tokens).
// A token that Gafaelfawr rejects (401 or 403) gives [ErrInvalidToken]; any
// other failure is an error the server answers with 500. Tokens never
// appear in errors, and the cache keys are token hashes.
package gafaelfawr
