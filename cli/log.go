package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/go-logr/logr"
	"github.com/sirupsen/logrus"
	"k8s.io/klog/v2"
)

// Log profiles, as Nublado's logProfile setting names them.
const (
	ProfileProduction  = "production"  // one JSON object per line
	ProfileDevelopment = "development" // human-readable key=value text
)

// configureLogger sets log's output, format and level from a Nublado log
// profile and level name (DEBUG, INFO, WARNING, ERROR, CRITICAL; any case).
func configureLogger(log *logrus.Logger, out io.Writer, profile, level string) error {
	lvl, err := parseLevel(level)
	if err != nil {
		return err
	}
	switch profile {
	case "", ProfileProduction:
		log.SetFormatter(&logrus.JSONFormatter{
			DisableHTMLEscape: true,
			FieldMap: logrus.FieldMap{
				logrus.FieldKeyMsg:   "event",
				logrus.FieldKeyLevel: "severity",
			},
		})
	case ProfileDevelopment:
		log.SetFormatter(&logrus.TextFormatter{FullTimestamp: true})
	default:
		return fmt.Errorf("unknown log profile %q (want %s or %s)", profile, ProfileProduction, ProfileDevelopment)
	}
	log.SetOutput(out)
	log.SetLevel(lvl)
	return nil
}

// parseLevel maps Nublado's level names (Python's) to logrus levels.
func parseLevel(level string) (logrus.Level, error) {
	switch strings.ToUpper(level) {
	case "", "INFO":
		return logrus.InfoLevel, nil
	case "DEBUG":
		return logrus.DebugLevel, nil
	case "WARNING", "WARN":
		return logrus.WarnLevel, nil
	case "ERROR":
		return logrus.ErrorLevel, nil
	case "CRITICAL":
		return logrus.FatalLevel, nil
	}
	return 0, fmt.Errorf("unknown log level %q (want DEBUG, INFO, WARNING, ERROR or CRITICAL)", level)
}

// routeKlog sends client-go's klog output into log, so that Kubernetes
// client messages (throttling, watch errors, deprecation warnings) come out
// in the controller's format with the field logger=client-go. klog's error
// lines become logrus errors, its V(0) lines info, V(1) and V(2) debug and
// higher verbosities trace. Call it once at start, before any client is
// built (klog.SetLogger is not safe while logging).
func routeKlog(log *logrus.Logger) {
	klog.SetLogger(logr.New(&logrusSink{entry: logrus.NewEntry(log).WithField("logger", "client-go")}))
}

// logrusSink is a logr.LogSink over a logrus entry.
type logrusSink struct {
	entry *logrus.Entry
	name  string
}

var _ logr.LogSink = (*logrusSink)(nil)

// Init implements logr.LogSink; there is nothing to initialise.
func (s *logrusSink) Init(logr.RuntimeInfo) {}

// Enabled reports whether a V-level maps to an enabled logrus level.
func (s *logrusSink) Enabled(level int) bool {
	return s.entry.Logger.IsLevelEnabled(logrusLevel(level))
}

// Info logs msg at the logrus level of the V-level.
func (s *logrusSink) Info(level int, msg string, kv ...any) {
	s.with(kv).Log(logrusLevel(level), msg)
}

// Error logs msg at error level with err under the error key.
func (s *logrusSink) Error(err error, msg string, kv ...any) {
	e := s.with(kv)
	if err != nil {
		e = e.WithError(err)
	}
	e.Error(msg)
}

// WithValues returns a sink that adds the key/value pairs to every line.
func (s *logrusSink) WithValues(kv ...any) logr.LogSink {
	return &logrusSink{entry: s.with(kv), name: s.name}
}

// WithName returns a sink whose lines carry the dotted name under
// "component".
func (s *logrusSink) WithName(name string) logr.LogSink {
	full := name
	if s.name != "" {
		full = s.name + "." + name
	}
	return &logrusSink{entry: s.entry.WithField("component", full), name: full}
}

// with adds logr key/value pairs as logrus fields. A dangling key gets the
// value "(MISSING)", as logr's own sinks do.
func (s *logrusSink) with(kv []any) *logrus.Entry {
	if len(kv) == 0 {
		return s.entry
	}
	fields := logrus.Fields{}
	for i := 0; i < len(kv); i += 2 {
		key := fmt.Sprint(kv[i])
		if i+1 < len(kv) {
			fields[key] = kv[i+1]
		} else {
			fields[key] = "(MISSING)"
		}
	}
	return s.entry.WithFields(fields)
}

// logrusLevel maps a logr V-level to a logrus level.
func logrusLevel(v int) logrus.Level {
	switch {
	case v <= 0:
		return logrus.InfoLevel
	case v <= 2:
		return logrus.DebugLevel
	default:
		return logrus.TraceLevel
	}
}
