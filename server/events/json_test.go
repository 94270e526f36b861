package events_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/server/events"
)

func TestData(t *testing.T) {
	cases := map[string]struct {
		ev   nublado.Event
		want string
	}{
		"WithProgress": {
			ev:   info("Starting lab creation for rachel", 1),
			want: `{"message": "Starting lab creation for rachel", "progress": 1}`,
		},
		"NoProgress": {
			ev:   nublado.Event{Type: nublado.EventComplete, Message: "Lab Kubernetes pod started for rachel"},
			want: `{"message": "Lab Kubernetes pod started for rachel"}`,
		},
		"Escapes": {
			ev:   info("a \"q\" \\ \n\r\t\b\f \x01 \x7f <&>", 0),
			want: `{"message": "a \"q\" \\ \n\r\t\b\f \u0001 \u007f <&>"}`,
		},
		"NonASCII": {
			ev:   info("Ünïcode é ☃ 😀", 100),
			want: `{"message": "\u00dcn\u00efcode \u00e9 \u2603 \ud83d\ude00", "progress": 100}`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, events.Data(tc.ev), "Data: -want +got")
		})
	}
}

func TestFrame(t *testing.T) {
	got := events.Frame(nublado.Event{Type: nublado.EventFailed, Message: "Lab spawn failed"})
	assert.Equal(t, "event: failed\r\ndata: {\"message\": \"Lab spawn failed\"}\r\n\r\n", got)
}

func TestPingFrame(t *testing.T) {
	tz := time.FixedZone("X", 3600)
	assert.Equal(t, ": ping - 2025-08-25 16:57:38.123456+00:00\r\n\r\n",
		events.PingFrame(time.Date(2025, 8, 25, 17, 57, 38, 123456789, tz)))
	assert.Equal(t, ": ping - 2025-08-25 16:57:38+00:00\r\n\r\n",
		events.PingFrame(time.Date(2025, 8, 25, 16, 57, 38, 0, time.UTC)))
}
