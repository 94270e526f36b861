package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/nublado-go/nublado/internal/testcluster"
)

// Files in the state directory besides the control plane's own.
const (
	pidFile   = "localcluster.pid"
	logFile   = "localcluster.log"
	readyFile = "ready"
)

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "localcluster",
		Short:         "Start and stop the local Kubernetes control plane in the background",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newCmdUp(), newCmdDown(), newCmdServe())
	return root
}

func newCmdUp() *cobra.Command {
	var state, bin string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Start the control plane in the background and print its kubeconfig path",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			return up(ctx, cmd.OutOrStdout(), state, bin)
		},
	}
	cmd.Flags().StringVar(&state, "state", ".cache/cluster", "state directory (kubeconfig, logs, etcd data)")
	cmd.Flags().StringVar(&bin, "bin", "", "directory of the control-plane binaries (default: $"+testcluster.BinEnv+" or .cache/bin)")
	cmd.Flags().DurationVar(&timeout, "timeout", 3*time.Minute, "how long to wait for the control plane")
	return cmd
}

func newCmdDown() *cobra.Command {
	var state string
	cmd := &cobra.Command{
		Use:   "down",
		Short: "Stop the control plane and remove its state directory",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return down(cmd.Context(), cmd.OutOrStdout(), state)
		},
	}
	cmd.Flags().StringVar(&state, "state", ".cache/cluster", "state directory")
	return cmd
}

func newCmdServe() *cobra.Command {
	var state, bin string
	cmd := &cobra.Command{
		Use:    "serve",
		Short:  "Run the control plane in the foreground until SIGTERM (what up starts)",
		Args:   cobra.NoArgs,
		Hidden: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return serve(cmd.Context(), cmd.OutOrStdout(), state, bin)
		},
	}
	cmd.Flags().StringVar(&state, "state", ".cache/cluster", "state directory")
	cmd.Flags().StringVar(&bin, "bin", "", "directory of the control-plane binaries")
	return cmd
}

// up starts the supervisor unless one is running, and waits until it reports
// the cluster ready or exits.
func up(ctx context.Context, out io.Writer, state, bin string) error {
	state, err := filepath.Abs(state)
	if err != nil {
		return fmt.Errorf("resolving state directory: %w", err)
	}
	kubeconfig := filepath.Join(state, "kubeconfig")
	if pid, ok := running(state); ok {
		if _, err := os.Stat(filepath.Join(state, readyFile)); err == nil {
			fmt.Fprintf(out, "local control plane already running (pid %d)\nkubeconfig: %s\n", pid, kubeconfig)
			return nil
		}
		return fmt.Errorf("local control plane (pid %d) is starting or failed; see %s or run down", pid, filepath.Join(state, logFile))
	}
	if bin == "" {
		if bin, err = testcluster.FindBinDir(); err != nil {
			return err
		}
	}
	if bin, err = filepath.Abs(bin); err != nil {
		return fmt.Errorf("resolving binary directory: %w", err)
	}
	// Stale state of a supervisor that is gone (killed, machine restarted).
	if err := os.RemoveAll(state); err != nil {
		return fmt.Errorf("removing stale state: %w", err)
	}
	if err := os.MkdirAll(state, 0o700); err != nil {
		return fmt.Errorf("creating state directory: %w", err)
	}
	cmd, err := startSupervisor(state, bin)
	if err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	if err := waitReady(ctx, state, exited); err != nil {
		logTail, _ := os.ReadFile(filepath.Join(state, logFile))
		return fmt.Errorf("%w\n%s", err, lastLines(logTail, 40))
	}
	fmt.Fprintf(out, "local control plane running (pid %d)\nkubeconfig: %s\n", cmd.Process.Pid, kubeconfig)
	return nil
}

// startSupervisor runs `localcluster serve` detached: own session, output to
// the state directory, so that it outlives this process and its terminal.
func startSupervisor(state, bin string) (*exec.Cmd, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding own executable: %w", err)
	}
	log, err := os.OpenFile(filepath.Join(state, logFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("creating supervisor log: %w", err)
	}
	defer log.Close()
	cmd := exec.Command(self, "serve", "--state", state, "--bin", bin)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting supervisor: %w", err)
	}
	return cmd, nil
}

func waitReady(ctx context.Context, state string, exited <-chan error) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if _, err := os.Stat(filepath.Join(state, readyFile)); err == nil {
			return nil
		}
		select {
		case err := <-exited:
			return fmt.Errorf("supervisor exited before the control plane was ready: %v", err)
		case <-ctx.Done():
			return fmt.Errorf("waiting for the control plane: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// serve runs the control plane until ctx ends (SIGTERM or SIGINT).
func serve(ctx context.Context, out io.Writer, state, bin string) error {
	if err := os.WriteFile(filepath.Join(state, pidFile), []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		return fmt.Errorf("writing pid file: %w", err)
	}
	begin := time.Now()
	c, err := testcluster.Start(ctx, testcluster.Options{BinDir: bin, Dir: state, Nodes: testcluster.DefaultNodes(3)})
	if err != nil {
		return fmt.Errorf("starting the control plane: %w", err)
	}
	fmt.Fprintf(out, "%s control plane ready in %s at %s\n", time.Now().Format(time.RFC3339), time.Since(begin).Round(time.Millisecond), c.Host())
	if err := os.WriteFile(filepath.Join(state, readyFile), nil, 0o600); err != nil {
		_ = c.Stop()
		return fmt.Errorf("writing ready file: %w", err)
	}
	<-ctx.Done()
	fmt.Fprintf(out, "%s stopping\n", time.Now().Format(time.RFC3339))
	return c.Stop()
}

// down stops the supervisor, if any, and removes the state directory.
func down(ctx context.Context, out io.Writer, state string) error {
	pid, ok := running(state)
	if ok {
		if err := stopPid(ctx, pid); err != nil {
			return err
		}
		fmt.Fprintf(out, "local control plane stopped (pid %d)\n", pid)
	} else {
		fmt.Fprintln(out, "local control plane not running")
	}
	if err := os.RemoveAll(state); err != nil {
		return fmt.Errorf("removing state directory: %w", err)
	}
	return nil
}

// stopPid sends SIGTERM and waits up to a minute for the process to exit,
// then kills it.
func stopPid(ctx context.Context, pid int) error {
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signalling supervisor %d: %w", pid, err)
	}
	deadline := time.Now().Add(time.Minute)
	for alive(pid) {
		if time.Now().After(deadline) || ctx.Err() != nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil
}

// running returns the supervisor's pid when its pid file names a live
// `localcluster serve` process.
func running(state string) (int, bool) {
	data, err := os.ReadFile(filepath.Join(state, pidFile))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || !alive(pid) {
		return 0, false
	}
	cmdline, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	if err != nil || !bytes.Contains(cmdline, []byte("serve\x00--state\x00")) {
		return 0, false // the pid was reused by another program
	}
	return pid, true
}

func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	// A zombie (exited, not yet reaped) counts as gone.
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z"
}

func lastLines(data []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
