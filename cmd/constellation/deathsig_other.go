//go:build !linux

package main

import "os/exec"

// dieWithParent does nothing where the kernel has no parent-death signal;
// there a killed supervisor's nodes must be stopped by hand.
func dieWithParent(*exec.Cmd) {}
