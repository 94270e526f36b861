package load

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// ControllerOptions says how to run `nublado serve`.
type ControllerOptions struct {
	// Binary is the nublado binary (required).
	Binary string
	// Args follow "serve" (--config, --kubeconfig, --qps, ...); the
	// controller listens on a free loopback port (--listen 127.0.0.1:0).
	Args []string
	// Env is added to the process's environment.
	Env []string
	// Log receives the controller's standard error (its JSON log lines);
	// default io.Discard.
	Log io.Writer
}

// Controller is a running `nublado serve` child process.
type Controller struct {
	// Base is its base URL, http://127.0.0.1:port.
	Base string

	cmd    *exec.Cmd
	exited chan struct{}
	err    error
}

// StartController starts the controller and returns once it serves (its
// log says "Serving the spawner API"), or fails when it exits first or ctx
// ends. The process's logs must be JSON (logProfile: production).
func StartController(ctx context.Context, o ControllerOptions) (*Controller, error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	args := append([]string{"serve", "--listen", "127.0.0.1:0"}, o.Args...)
	cmd := exec.Command(o.Binary, args...)
	cmd.Env = append(os.Environ(), o.Env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, fmt.Errorf("starting %s: %w", o.Binary, err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", o.Binary, err)
	}
	c := &Controller{cmd: cmd, exited: make(chan struct{})}
	addr := make(chan string, 1)
	var copied sync.WaitGroup
	copied.Go(func() { scanLog(stderr, o.Log, addr) })
	go func() {
		copied.Wait()
		c.err = cmd.Wait()
		close(c.exited)
	}()
	select {
	case a := <-addr:
		c.Base = "http://" + a
		return c, nil
	case <-c.exited:
		return nil, fmt.Errorf("nublado serve exited before serving: %w", c.err)
	case <-ctx.Done():
		_ = c.Stop()
		return nil, fmt.Errorf("waiting for nublado serve: %w", ctx.Err())
	}
}

// scanLog copies the log lines to w and sends the listen address of the
// "Serving the spawner API" line to addr.
func scanLog(r io.Reader, w io.Writer, addr chan<- string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		_, _ = fmt.Fprintf(w, "%s\n", line)
		var entry struct {
			Event   string `json:"event"`
			Address string `json:"address"`
		}
		if json.Unmarshal(line, &entry) == nil && entry.Event == "Serving the spawner API" {
			select {
			case addr <- entry.Address:
			default:
			}
		}
	}
	_, _ = io.Copy(w, r)
}

// Pid is the controller's process id.
func (c *Controller) Pid() int { return c.cmd.Process.Pid }

// Memory reads the controller's current (VmRSS) and peak (VmHWM) resident
// set size, in bytes, from /proc.
func (c *Controller) Memory() (rss, peak int64, err error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.Pid()))
	if err != nil {
		return 0, 0, fmt.Errorf("reading the controller's memory: %w", err)
	}
	return procStatusKB(data, "VmRSS") << 10, procStatusKB(data, "VmHWM") << 10, nil
}

// procStatusKB returns a "Key:   123 kB" value of /proc/PID/status, 0
// when absent.
func procStatusKB(data []byte, key string) int64 {
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, key+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb
		}
	}
	return 0
}

// CPU returns the CPU time (user and system) the controller used so far,
// from /proc/PID/stat.
func (c *Controller) CPU() (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", c.Pid()))
	if err != nil {
		return 0, fmt.Errorf("reading the controller's CPU time: %w", err)
	}
	return procStatCPU(data)
}

// clockTicks is USER_HZ, 100 on every Linux architecture Go supports.
const clockTicks = 100

// procStatCPU sums utime and stime (fields 14 and 15) of /proc/PID/stat.
func procStatCPU(data []byte) (time.Duration, error) {
	s := string(data)
	end := strings.LastIndexByte(s, ')') // the command may hold spaces
	if end < 0 {
		return 0, errors.New("malformed /proc stat")
	}
	fields := strings.Fields(s[end+1:])
	if len(fields) < 13 {
		return 0, errors.New("malformed /proc stat")
	}
	var ticks int64
	for _, f := range fields[11:13] { // utime, stime: fields 14, 15 of the line
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("malformed /proc stat: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// Metrics reads the controller's /metrics.
func (c *Controller) Metrics(ctx context.Context) (Metrics, error) {
	return scrape(ctx, http.DefaultClient, c.Base+"/metrics")
}

// Stop sends SIGTERM and waits until the process exits (SIGKILL after 30
// seconds). It returns the process's exit error, nil for a clean exit.
func (c *Controller) Stop() error {
	select {
	case <-c.exited:
		return c.err
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
	return c.err
}

// Metrics are scraped Prometheus metric families by name.
type Metrics map[string]*dto.MetricFamily

// scrape reads the text exposition at url.
func scrape(ctx context.Context, client *http.Client, url string) (Metrics, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scraping %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scraping %s: status %d", url, resp.StatusCode)
	}
	return ParseMetrics(resp.Body)
}

// ParseMetrics parses the Prometheus text format.
func ParseMetrics(r io.Reader) (Metrics, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("parsing metrics: %w", err)
	}
	return families, nil
}

// Sum adds the values of a counter (or the sample counts of a histogram,
// or the sums when sums is set) of family name, over the series whose labels
// include every label of match, grouped by the values of the labels by
// (joined with a space; "" for one total).
func (m Metrics) Sum(name string, match map[string]string, sums bool, by ...string) map[string]float64 {
	out := map[string]float64{}
	f := m[name]
	if f == nil {
		return out
	}
	for _, s := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range s.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if !matches(labels, match) {
			continue
		}
		var v float64
		switch {
		case s.Counter != nil:
			v = s.Counter.GetValue()
		case s.Histogram != nil && sums:
			v = s.Histogram.GetSampleSum()
		case s.Histogram != nil:
			v = float64(s.Histogram.GetSampleCount())
		case s.Gauge != nil:
			v = s.Gauge.GetValue()
		case s.Untyped != nil:
			v = s.Untyped.GetValue()
		}
		key := make([]string, len(by))
		for i, l := range by {
			key[i] = labels[l]
		}
		out[strings.Join(key, " ")] += v
	}
	return out
}

func matches(labels, match map[string]string) bool {
	for k, v := range match {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// Delta returns after minus before, key by key.
func Delta(before, after map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range after {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}
