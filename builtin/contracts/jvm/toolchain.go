package jvm

import (
	"archive/zip"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// RuntimeMain is the SDK's entry point: it loads the contract jar named as
// its one argument and serves it over the contract gRPC protocol.
const RuntimeMain = "chain.constellation.contract.runtime.Main"

// JVMFlags are the flags every contract JVM runs with:
//   - -XX:hashCode=2 makes every identity hash code the constant 1, so
//     HashMap order and Object.hashCode/toString of classes that do not
//     override them are the same on every host (an experimental HotSpot
//     flag, hence the unlock);
//   - -XX:+ExitOnOutOfMemoryError ends the process on an out-of-memory
//     error, so no contract can catch one and carry on with a result that
//     depends on the host's heap;
var JVMFlags = []string{
	"-XX:+UnlockExperimentalVMOptions", "-XX:hashCode=2",
	"-XX:+ExitOnOutOfMemoryError",
}

// DebianJars are the jars under /usr/share/java the SDK runs with, by their
// unversioned names, and the Debian package that ships each.
var DebianJars = []struct{ Jar, Package string }{
	{"grpc-api", "libgrpc-java"}, {"grpc-core", "libgrpc-java"}, {"grpc-netty", "libgrpc-java"},
	{"grpc-protobuf", "libgrpc-java"}, {"grpc-protobuf-lite", "libgrpc-java"}, {"grpc-stub", "libgrpc-java"},
	{"grpc-context", "libgrpc-java"}, {"protobuf", "libprotobuf-java"}, {"guava", "libguava-java"},
	{"perfmark-api", "libperfmark-java"}, {"geronimo-annotation-1.3-spec", "libgeronimo-annotation-1.3-spec-java"},
	{"netty-transport", "libnetty-java"}, {"netty-buffer", "libnetty-java"}, {"netty-common", "libnetty-java"},
	{"netty-codec", "libnetty-java"}, {"netty-codec-http2", "libnetty-java"}, {"netty-codec-http", "libnetty-java"},
	{"netty-handler", "libnetty-java"}, {"netty-resolver", "libnetty-java"}, {"netty-codec-socks", "libnetty-java"},
	{"netty-handler-proxy", "libnetty-java"},
}

// JavaDir is where Debian installs Java libraries.
var JavaDir = "/usr/share/java"

// DebianClasspath returns the Debian jars the SDK needs, or an error naming
// the packages to install for any that are missing.
func DebianClasspath() ([]string, error) {
	var out []string
	missing := map[string]bool{}
	var pkgs []string
	for _, j := range DebianJars {
		p := filepath.Join(JavaDir, j.Jar+".jar")
		if _, err := os.Stat(p); err != nil {
			if !missing[j.Package] {
				missing[j.Package] = true
				pkgs = append(pkgs, j.Package)
			}
			continue
		}
		out = append(out, p)
	}
	if len(pkgs) > 0 {
		return nil, fmt.Errorf("jvm: Java libraries missing under %s; install the Debian packages: apt-get install -y %s (or run make deps)", JavaDir, strings.Join(pkgs, " "))
	}
	return out, nil
}

// Toolchain is what building and running Java contracts needs.
type Toolchain struct {
	Java, Javac, Jar, Protoc, GRPCPlugin string
	Classpath                            []string // the Debian jars
}

// FindToolchain reports whether the JVM toolchain is present: java, javac
// and jar (openjdk-17-jdk-headless), protoc (protobuf-compiler), the gRPC
// Java generator (protobuf-compiler-grpc-java-plugin) and the Debian jars.
// The error names the Debian packages to install.
func FindToolchain() (*Toolchain, error) {
	t := &Toolchain{}
	var pkgs []string
	for _, x := range []struct {
		dst       *string
		name, pkg string
	}{
		{&t.Java, "java", "openjdk-17-jdk-headless"},
		{&t.Javac, "javac", "openjdk-17-jdk-headless"},
		{&t.Jar, "jar", "openjdk-17-jdk-headless"},
		{&t.Protoc, "protoc", "protobuf-compiler"},
		{&t.GRPCPlugin, "grpc_java_plugin", "protobuf-compiler-grpc-java-plugin"},
	} {
		p, err := exec.LookPath(x.name)
		if err != nil {
			pkgs = append(pkgs, x.pkg+" (for "+x.name+")")
			continue
		}
		*x.dst = p
	}
	cp, err := DebianClasspath()
	if len(pkgs) > 0 {
		msg := "jvm: toolchain incomplete; install with apt-get (or run make deps): " + strings.Join(pkgs, ", ")
		if err != nil {
			msg += "; " + err.Error()
		}
		return nil, fmt.Errorf("%s", msg)
	}
	if err != nil {
		return nil, err
	}
	t.Classpath = cp
	return t, nil
}

// Command builds the command line that runs a contract jar: java with
// JVMFlags, the SDK and its Debian jars on the class path, and the SDK's
// runtime main, which loads the jar in a class loader of its own. The jar
// should have passed Verify. The contract jar itself is not on the class
// path, so the SDK's classes cannot be shadowed by it.
func Command(java, jarPath string, classpath []string) *exec.Cmd {
	args := append([]string{}, JVMFlags...)
	args = append(args, "-cp", strings.Join(classpath, string(os.PathListSeparator)), RuntimeMain, jarPath)
	return exec.Command(java, args...)
}

// BuildJar compiles the .java files under srcDir with javac (release 17)
// against classpath and packs the classes into a jar whose bytes depend
// only on the classes: entries sorted, fixed timestamps, no manifest. The
// same sources give the same code hash on every machine with the same
// javac.
func BuildJar(javac string, classpath []string, srcDir string) ([]byte, error) {
	var sources []string
	err := filepath.WalkDir(srcDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".java") {
			sources = append(sources, p)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("jvm: build jar: %v", err)
	}
	if len(sources) == 0 {
		return nil, fmt.Errorf("jvm: build jar: no .java files under %s", srcDir)
	}
	sort.Strings(sources)
	out, err := os.MkdirTemp("", "constellation-javac-")
	if err != nil {
		return nil, fmt.Errorf("jvm: build jar: %v", err)
	}
	defer os.RemoveAll(out)
	args := []string{"--release", "17", "-nowarn", "-encoding", "UTF-8", "-d", out}
	if len(classpath) > 0 {
		args = append(args, "-cp", strings.Join(classpath, string(os.PathListSeparator)))
	}
	cmd := exec.Command(javac, append(args, sources...)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("jvm: javac: %v\n%s", err, b)
	}
	var names []string
	err = filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(out, p)
			names = append(names, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("jvm: build jar: %v", err)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(n)))
		if err != nil {
			return nil, fmt.Errorf("jvm: build jar: %v", err)
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: n, Method: zip.Deflate, Modified: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			return nil, fmt.Errorf("jvm: build jar: %v", err)
		}
		if _, err := w.Write(b); err != nil {
			return nil, fmt.Errorf("jvm: build jar: %v", err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("jvm: build jar: %v", err)
	}
	return buf.Bytes(), nil
}
