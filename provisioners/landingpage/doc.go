// Package landingpage installs the landing page into a user's home, as the
// init container nublado-std-landingpage does on science sites
// (`nublado landingpage`, as the user).
//
// [Provision] copies each landing-page file from the source directory into the
// target directory under the home (always refreshing it from the source), and
// makes JupyterLab open Markdown files in the preview by default unless the
// user chose otherwise. [OptionsFromEnv] reads the inputs from NUBLADO_HOME
// and the CST_LANDING_PAGE_* variables.
package landingpage
