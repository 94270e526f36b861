package startup

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Recovery files, relative to the recovery home.
var (
	welcomeFile       = filepath.Join("notebooks", "tutorials", "welcome.md")
	docmanagerFile    = filepath.Join(".jupyter", "lab", "user-settings", "@jupyterlab", "docmanager-extension", "plugin.jupyterlab-settings")
	docmanagerSetting = `{"defaultViewers": {"markdown": "Markdown Preview"}}`
)

// enterRecovery moves the lab to its recovery home: the user's scratch
// directory (as decided, else as the environment has it), else the temporary
// directory. It writes there a welcome.md explaining the failure and makes
// JupyterLab open Markdown files rendered. Errors are logged only.
func (p *preparer) enterRecovery() {
	msg := p.abnormal.Error()
	p.log.Warn("Abnormal startup: " + msg)
	recovery := p.out["SCRATCH_DIR"]
	if recovery == "" {
		recovery = p.env["SCRATCH_DIR"]
	}
	if recovery == "" {
		recovery = p.opts.TmpDir
	}
	files := []struct{ rel, text string }{
		{welcomeFile, welcomeText(p.abnormal, p.home)},
		{docmanagerFile, docmanagerSetting},
	}
	for _, f := range files {
		path := filepath.Join(recovery, f.rel)
		if err := writeFileAll(path, f.text); err != nil {
			p.log.WithError(err).WithField("path", path).Error("Could not write recovery file")
		}
	}
	p.log.Warnf("Launching with homedir='%s'", recovery)
	p.home = recovery
	p.out["HOME"] = recovery
}

// writeFileAll writes text to path, creating its directories.
func writeFileAll(path, text string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(text), 0o666)
}

// welcomeText is the recovery welcome.md for err, which happened while
// preparing the home directory home.
func welcomeText(err *StartupError, home string) string {
	var b strings.Builder
	b.WriteString("# Abnormal startup\n\n")
	b.WriteString("Your Lab container did not start normally.\n")
	b.WriteString("Do not trust this lab for work you want to keep.\n\n")
	if advice := welcomeAdvice(err.Code, home); advice != "" {
		b.WriteString(advice + "\n\n")
	}
	b.WriteString("Please open an issue with your RSP site administrator with the following information: ")
	fmt.Fprintf(&b, "`%s`\n", err.Error())
	return b.String()
}

// welcomeAdvice is what the user can do about the error code.
func welcomeAdvice(code, home string) string {
	switch code {
	case "EDQUOT":
		return fmt.Sprintf("You have exceeded your storage quota on your home directory (`%s`). "+
			"Open a terminal and delete files you no longer need; the `quota` command "+
			"shows how much space you use and how much you may use. "+
			"Then shut down this lab and start a new one.", home)
	case "ENOSPC":
		return fmt.Sprintf("The filesystem holding your home directory (`%s`) is full. "+
			"Open a terminal and delete files you no longer need, then shut down this lab "+
			"and start a new one. If that does not help, tell your RSP site administrator.", home)
	case "EROFS", "EACCES":
		return fmt.Sprintf("You do not have permission to write to your home directory (`%s`). "+
			"Ask your RSP site administrator to check the ownership and permissions of your "+
			"home directory.", home)
	case "EBADENV":
		return "Your Lab was started without some of the environment variables it needs. " +
			"This is a problem with the deployment, not with your files: tell your RSP site administrator."
	}
	return ""
}
