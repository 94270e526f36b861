package devstack_test

import (
	"testing"

	"github.com/nublado-go/nublado/internal/testcluster"
)

func TestMain(m *testing.M) { testcluster.Main(m, testcluster.Options{}) }
