// Command nublado is the single binary of nublado: the lab controller
// (nublado serve), the offline tools (render, validate, diff, apply, images,
// purger) and the lab init-container provisioners (inithome, landingpage,
// startup).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/nublado-go/nublado/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Execute(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
