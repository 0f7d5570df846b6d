package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

// maxSecretLine bounds a passphrase or seed read from a descriptor.
const maxSecretLine = 4096

// readSecretLine reads one line (without its line ending) from r: up to
// the first newline, or all of r when it has none.
func readSecretLine(r io.Reader) ([]byte, error) {
	var line []byte
	b := make([]byte, 1)
	for {
		n, err := r.Read(b)
		if n == 1 {
			if b[0] == '\n' {
				break
			}
			if len(line) == maxSecretLine {
				clear(line)
				return nil, fmt.Errorf("longer than %d bytes", maxSecretLine)
			}
			line = append(line, b[0])
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			clear(line)
			return nil, err
		}
	}
	return bytes.TrimSuffix(line, []byte("\r")), nil
}

// fdFile returns descriptor fd, as a flag named it.
func fdFile(c *cli.Context, flag string) (*os.File, error) {
	fd := c.Int(flag)
	if fd < 0 {
		return nil, cli.Exit(fmt.Sprintf("--%s %d: want an open file descriptor (0 is stdin, 3 the first one a parent passes on)", flag, fd), 2)
	}
	// Go's runtime keeps descriptors of its own open (the cgroup CPU
	// quota files, from 3 up when the parent passed none): reading one
	// would take its contents for a secret.
	if target, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd)); err == nil {
		if strings.HasPrefix(target, "/sys/") || strings.HasPrefix(target, "/proc/") {
			return nil, fmt.Errorf("--%s %d: descriptor %d is not one the caller passed on (it is this process's own %s); open it in the caller, e.g. %d<file or a pipe", flag, fd, fd, target, fd)
		}
	} else if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("--%s %d: descriptor %d is not open; open it in the caller, e.g. %d<file or a pipe", flag, fd, fd, fd)
	}
	f := os.NewFile(uintptr(fd), fmt.Sprintf("descriptor %d", fd))
	if f == nil {
		return nil, fmt.Errorf("--%s %d: not an open file descriptor", flag, fd)
	}
	return f, nil
}

// passphrase returns the wallet's passphrase: the first line of
// --passphrase-fd when given, else what the user types at the terminal
// (/dev/tty, with echo off). A new passphrase (confirm) is asked twice at a
// terminal and must not be empty.
func passphrase(c *cli.Context, prompt string, confirm bool) ([]byte, error) {
	if c.IsSet("passphrase-fd") {
		f, err := fdFile(c, "passphrase-fd")
		if err != nil {
			return nil, err
		}
		p, err := readSecretLine(f)
		if err != nil {
			return nil, fmt.Errorf("read the passphrase from --passphrase-fd %d: %w", c.Int("passphrase-fd"), err)
		}
		if len(p) == 0 {
			return nil, fmt.Errorf("--passphrase-fd %d gave an empty passphrase", c.Int("passphrase-fd"))
		}
		return p, nil
	}
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("no terminal to ask for the passphrase on (%v); pass it on a file descriptor with --passphrase-fd N", err)
	}
	defer tty.Close()
	ask := func(prompt string) ([]byte, error) {
		fmt.Fprint(tty, prompt)
		p, err := term.ReadPassword(int(tty.Fd()))
		fmt.Fprintln(tty)
		if err != nil {
			return nil, fmt.Errorf("read the passphrase from the terminal: %w", err)
		}
		return p, nil
	}
	p, err := ask(prompt)
	if err != nil {
		return nil, err
	}
	if len(p) == 0 {
		return nil, errors.New("empty passphrase: the keystore needs one to protect the key")
	}
	if confirm {
		again, err := ask("Repeat the passphrase: ")
		if err != nil {
			clear(p)
			return nil, err
		}
		same := bytes.Equal(p, again)
		clear(again)
		if !same {
			clear(p)
			return nil, errors.New("the two passphrases differ; nothing written")
		}
	}
	return p, nil
}

// secretFromFD reads a secret line from --flag's descriptor; at a
// terminal it asks with echo off.
func secretFromFD(c *cli.Context, flag, prompt string) ([]byte, error) {
	f, err := fdFile(c, flag)
	if err != nil {
		return nil, err
	}
	if term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(os.Stderr, prompt)
		p, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(os.Stderr)
		if err != nil {
			return nil, fmt.Errorf("read from the terminal: %w", err)
		}
		return p, nil
	}
	p, err := readSecretLine(f)
	if err != nil {
		return nil, fmt.Errorf("read --%s %d: %w", flag, c.Int(flag), err)
	}
	return p, nil
}
