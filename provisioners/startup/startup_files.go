package startup

import (
	"fmt"
	"os"
	"path/filepath"
)

// labArgs is the fixed part of the lab's command line.
var labArgs = []string{
	"jupyterhub-singleuser",
	"--ip=0.0.0.0",
	"--port=8888",
	"--no-browser",
	"--ContentsManager.allow_hidden=True",
	"--FileContentsManager.hide_globs=[]",
	"--KernelSpecManager.ensure_native_kernel=False",
	"--QtExporter.enabled=False",
	"--PDFExporter.enabled=False",
	"--WebPDFExporter.enabled=False",
	"--MappingKernelManager.default_kernel_name=lsst",
	"--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
}

// timeoutArgs maps the timeout variables to their options, in order.
var timeoutArgs = []struct{ variable, option string }{
	{"NO_ACTIVITY_TIMEOUT", "--ServerApp.shutdown_no_activity_timeout"},
	{"CULL_KERNEL_IDLE_TIMEOUT", "--MappingKernelManager.cull_idle_timeout"},
	{"CULL_KERNEL_CONNECTED", "--MappingKernelManager.cull_connected"},
	{"CULL_KERNEL_INTERVAL", "--MappingKernelManager.cull_interval"},
	{"CULL_TERMINAL_INACTIVE_TIMEOUT", "--TerminalManager.cull_inactive_timeout"},
	{"CULL_TERMINAL_INTERVAL", "--TerminalManager.cull_interval"},
}

// finish switches an abnormal startup to its recovery home, then writes
// env.json and args.json (§5.9).
func (p *preparer) finish() (*Result, error) {
	if p.abnormal != nil {
		p.enterRecovery()
	}
	p.out["RUNNING_INSIDE_JUPYTERLAB"] = "TRUE"
	res := &Result{Env: p.out, Args: p.args(), Abnormal: p.abnormal}
	if err := p.writeStartupFiles(res); err != nil {
		return res, fmt.Errorf("writing lab startup files: %w", err)
	}
	return res, nil
}

// args is the lab's command line.
func (p *preparer) args() []string {
	level := "INFO"
	if p.debug {
		level = "DEBUG"
	}
	args := append([]string{}, labArgs...)
	args = append(args, "--notebook-dir="+p.home, "--log-level="+level)
	for _, t := range timeoutArgs {
		if v := p.env[t.variable]; v != "" {
			args = append(args, t.option+"="+v)
		}
	}
	return args
}

// writeStartupFiles writes env.json then args.json.
func (p *preparer) writeStartupFiles(res *Result) error {
	env, err := pythonJSON(res.Env, 2)
	if err != nil {
		return err
	}
	args, err := pythonJSON(res.Args, 2)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(p.opts.StartupDir, "env.json"), env, 0o666); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(p.opts.StartupDir, "args.json"), args, 0o666)
}
