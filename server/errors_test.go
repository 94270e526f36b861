package server_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/server"
)

// TestStatusOf pins the code → status table of §1.2.
func TestStatusOf(t *testing.T) {
	want := map[nublado.ErrorCode]int{
		nublado.CodeInvalidToken:            401,
		nublado.CodePermissionDenied:        403,
		nublado.CodeInsufficientQuota:       403,
		nublado.CodeUnknownImage:            400,
		nublado.CodeInvalidDockerReference:  422,
		nublado.CodeInvalidLabSize:          422,
		nublado.CodeLabExists:               409,
		nublado.CodeOperationInProgress:     409,
		nublado.CodeUnknownUser:             404,
		nublado.CodeNotSupported:            404,
		nublado.CodeNotFound:                404,
		nublado.CodeInvalidPhase:            404,
		nublado.CodeDeleteFailed:            500,
		nublado.CodeFileServerCreateFailed:  500,
		nublado.CodeFileServerDeleteFailed:  500,
		nublado.ErrorCode("something_else"): 500,
	}
	for code, status := range want {
		assert.Equal(t, status, server.StatusOf(code), "StatusOf(%q)", code)
	}
}
