package main

import (
	"os/exec"
	"syscall"
)

// dieWithParent has the kernel send the child SIGTERM when the process
// that started it dies, however it dies (kill -9, SIGPIPE from a closed
// pipe), so a testnet's nodes never run on as orphans.
func dieWithParent(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGTERM
}
