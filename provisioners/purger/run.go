package purger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/go-multierror"
	"github.com/sirupsen/logrus"
)

// Mode is what a run does after planning.
type Mode string

// Modes of [Run], one per subcommand of nublado purger.
const (
	// ModeReport plans and reports.
	ModeReport Mode = "report"
	// ModeWarn plans as of now plus the config's future duration and reports.
	ModeWarn Mode = "warn"
	// ModeExecute plans, reports and purges (it reports instead of purging
	// when the config has DryRun or a FutureDuration).
	ModeExecute Mode = "execute"
)

// ErrNoFutureDuration is returned by a warn run without a future duration.
var ErrNoFutureDuration = errors.New("warn needs a future duration (-t/--future-duration or futureDuration)")

// PlanError collects the entries a report could not examine.
type PlanError struct {
	// Failed holds one *fs.PathError per entry.
	Failed *multierror.Error
}

func (e *PlanError) Error() string {
	return "plan encountered errors: " + failedList(e.Failed)
}

// Unwrap returns the collected errors.
func (e *PlanError) Unwrap() []error { return e.Failed.WrappedErrors() }

// FailedFiles maps each failed path to its error text.
func (e *PlanError) FailedFiles() map[string]string { return failedFiles(e.Failed) }

// Run is one purger run: it reads the policy, plans for now (plus
// FutureDuration), logs the report and, in [ModeExecute], purges. Entries that
// could not be examined while planning make the run fail at the end (a
// *[PlanError], or part of the *[PurgeError] of an execute run), after
// everything else was done.
func Run(ctx context.Context, cfg Config, mode Mode, log *logrus.Entry) error {
	log.WithField("config", cfg.LogFields()).Info("Purger initialized")
	if mode == ModeWarn && cfg.FutureDuration <= 0 {
		return ErrNoFutureDuration
	}
	policy, err := ReadPolicy(cfg.PolicyFile)
	if err != nil {
		return err
	}
	when := time.Now().UTC()
	if cfg.FutureDuration > 0 {
		log.Infof("Planning for time %ss from now.", formatSeconds(cfg.FutureDuration))
		when = when.Add(cfg.FutureDuration)
	}
	plan, err := MakePlan(ctx, policy, when)
	if err != nil {
		return err
	}
	for _, p := range plan.Missing {
		log.WithField("path", p).Warn("File or directory vanished or is not a directory, skipping")
	}
	if mode == ModeExecute {
		switch {
		case cfg.DryRun:
			log.Warn("Cannot purge because dry_run enabled; reporting instead")
		case cfg.FutureDuration > 0:
			log.Warn("Cannot purge because future_duration is set; reporting instead")
		default:
			logReport(plan, log)
			return purgeAndLog(ctx, plan, log)
		}
	}
	logReport(plan, log)
	if len(plan.Errors) > 0 {
		perr := &PlanError{Failed: multierror.Append(nil, plan.Errors...)}
		log.WithField("failed_files", perr.FailedFiles()).Error("Plan encountered errors")
		return perr
	}
	return nil
}

func logReport(plan *Plan, log *logrus.Entry) {
	report, _ := plan.Report() // plan is not nil
	log.Info(report)
}

// purgeAndLog purges and logs the outcome; the plan's errors are reported
// with the purge's.
func purgeAndLog(ctx context.Context, plan *Plan, log *logrus.Entry) error {
	res, err := Purge(ctx, plan)
	if res != nil {
		for _, p := range res.Deleted {
			log.WithField("path", p).Debug("Deleted file")
		}
		for _, p := range res.Removed {
			log.WithField("path", p).Debug("Removed empty directory")
		}
		for _, p := range res.Skipped {
			log.WithField("path", p).Warn("File vanished or changed since planning, skipped")
		}
		log.WithFields(logrus.Fields{"deleted": len(res.Deleted), "removed_directories": len(res.Removed)}).
			Info("Purge finished")
	}
	failed := multierror.Append(nil, plan.Errors...)
	var perr *PurgeError
	switch {
	case errors.As(err, &perr):
		failed = multierror.Append(failed, perr.Failed.WrappedErrors()...)
	case err != nil:
		return fmt.Errorf("purging: %w", err)
	}
	if failed.Len() == 0 {
		return nil
	}
	perr = &PurgeError{Failed: failed}
	log.WithField("failed_files", perr.FailedFiles()).Error("Purge encountered errors")
	return perr
}
