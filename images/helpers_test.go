package images

import (
	"io"
	"log"
)

// nilLogger silences the in-memory registry.
func nilLogger() *log.Logger { return log.New(io.Discard, "", 0) }
