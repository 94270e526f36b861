package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/sirupsen/logrus"
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
