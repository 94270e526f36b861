package testcluster

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// stopGrace is how long a component gets to exit after SIGTERM before it is
// killed. kube-apiserver stops listening at once but then often lingers for
// many seconds; nothing of value is lost by killing it.
const stopGrace = 3 * time.Second

// process is one running component of the control plane. Its output goes to
// a log file that is appended to across restarts.
type process struct {
	name    string
	path    string
	args    []string
	env     []string
	logPath string

	cmd  *exec.Cmd
	log  *os.File
	done chan struct{} // closed when cmd has exited
	err  error         // cmd.Wait's result, valid after done is closed
}

// start launches the process. The child gets SIGKILL if the starting process
// dies, so a crashed test binary leaves no control plane behind.
func (p *process) start() error {
	f, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("opening %s log: %w", p.name, err)
	}
	fmt.Fprintf(f, "=== %s starting: %s %s\n", time.Now().Format(time.RFC3339Nano), p.path, strings.Join(p.args, " "))
	cmd := exec.Command(p.path, p.args...)
	cmd.Env = append(os.Environ(), p.env...)
	cmd.Stdout = f
	cmd.Stderr = f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		_ = f.Close()
		return fmt.Errorf("starting %s: %w", p.name, err)
	}
	p.cmd, p.log, p.done = cmd, f, make(chan struct{})
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return nil
}

// exited reports whether the process has ended, and how.
func (p *process) exited() (bool, error) {
	select {
	case <-p.done:
		return true, fmt.Errorf("%s exited: %w", p.name, p.err)
	default:
		return false, nil
	}
}

// stop sends SIGTERM, waits up to stopGrace and then kills the process.
// Stopping a process that was never started or has exited is a no-op.
func (p *process) stop() error {
	if p.cmd == nil {
		return nil
	}
	defer func() {
		_ = p.log.Close()
		p.cmd = nil
	}()
	select {
	case <-p.done:
		return nil
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(stopGrace):
	}
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("killing %s: %w", p.name, err)
	}
	<-p.done
	return nil
}

// tail returns the last n lines of the process log, starting no earlier than
// byte offset from.
func (p *process) tail(from int64, n int) (string, error) {
	f, err := os.Open(p.logPath)
	if err != nil {
		return "", fmt.Errorf("opening %s log: %w", p.name, err)
	}
	defer f.Close()
	const window = 256 << 10
	st, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("reading %s log: %w", p.name, err)
	}
	start := max(from, st.Size()-window, 0)
	data, err := io.ReadAll(io.NewSectionReader(f, start, st.Size()-start))
	if err != nil {
		return "", fmt.Errorf("reading %s log: %w", p.name, err)
	}
	lines := bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n"))), nil
}

// size returns the current length of the log file (0 if it does not exist).
func (p *process) size() int64 {
	st, err := os.Stat(p.logPath)
	if err != nil {
		return 0
	}
	return st.Size()
}

func newProcess(binDir, logDir, name string, args ...string) *process {
	return &process{
		name:    name,
		path:    filepath.Join(binDir, name),
		args:    args,
		logPath: filepath.Join(logDir, name+".log"),
	}
}
