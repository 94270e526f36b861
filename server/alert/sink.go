package alert

// Sink is what the lab, file-server and prepuller managers and the HTTP
// server report their failures to (*[Reporter] implements it). Report
// must return at once and is called concurrently.
type Sink interface {
	// Report reports err, a failure that concerns user ("" when unknown).
	Report(user string, err error)
}

// Nop is a [Sink] that reports nothing: the managers' default.
type Nop struct{}

// Report does nothing.
func (Nop) Report(string, error) {}
