package jvm

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// compileJar compiles Java sources (path -> text) with javac and zips the
// classes into a jar. It skips the test when javac is missing.
func compileJar(t testing.TB, sources map[string]string) []byte {
	t.Helper()
	javac, err := exec.LookPath("javac")
	if err != nil {
		t.Skip("javac not found: install openjdk-17-jdk-headless (make deps) to run the JVM bytecode tests")
	}
	dir := t.TempDir()
	src, out := filepath.Join(dir, "src"), filepath.Join(dir, "out")
	var files []string
	for p, text := range sources {
		full := filepath.Join(src, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, full)
	}
	cmd := exec.Command(javac, append([]string{"--release", "17", "-nowarn", "-d", out}, files...)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("javac: %v\n%s", err, b)
	}
	return zipDir(t, out)
}

func zipDir(t testing.TB, dir string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		w, err := zw.Create(filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	})
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const cleanContract = `package com.acme;

import java.math.BigInteger;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.*;
import java.util.function.Function;
import java.util.stream.Collectors;

public class Clean {
    enum Kind { MINT, BURN }
    record Entry(String owner, long amount) {}

    private final Map<String, Long> balances = new HashMap<>();
    private final TreeMap<String, BigInteger> big = new TreeMap<>();

    public byte[] run(byte[] input) {
        String s = new String(input, StandardCharsets.UTF_8);
        StringBuilder sb = new StringBuilder();
        for (String part : s.split(",")) {
            sb.append(part.trim().toUpperCase(Locale.ROOT)).append(';');
        }
        balances.merge(s, 1L, Long::sum);
        big.put(s, BigInteger.valueOf(7).pow(20).add(BigInteger.ONE));
        BigDecimal d = new BigDecimal("1.25").multiply(BigDecimal.TEN);
        double x = StrictMath.sqrt(2.0) * 3.5f + Math.abs(-1.0) + Math.max(1, 2);
        long bits = Double.doubleToLongBits(x);
        List<Entry> entries = new ArrayList<>();
        entries.add(new Entry("a", 1));
        entries.sort(Comparator.comparing(Entry::owner));
        Function<String, Integer> len = String::length;
        String joined = entries.stream().map(Entry::toString).collect(Collectors.joining("|"));
        Kind k = s.isEmpty() ? Kind.MINT : Kind.BURN;
        switch (k) {
            case MINT: sb.append("m"); break;
            case BURN: sb.append("b"); break;
        }
        try {
            Integer.parseInt(s);
        } catch (NumberFormatException e) {
            sb.append(e.getMessage());
        }
        Optional<String> first = balances.keySet().stream().sorted().findFirst();
        List<String> fixed = List.of("x", "y");
        sb.append(fixed.get(0));
        int[] arr = new int[] {3, 1, 2};
        int[] copy = arr.clone();
        Arrays.sort(copy);
        assert copy.length == 3;
        String out = sb + ":" + d + ":" + bits + ":" + joined + ":" + len.apply(s) + first.orElse("") + Base64.getEncoder().encodeToString(input) + Objects.hash(s, x);
        return out.getBytes(StandardCharsets.UTF_8);
    }
}
`

func TestVerifyCleanContract(t *testing.T) {
	jar := compileJar(t, map[string]string{"com/acme/Clean.java": cleanContract})
	if err := Verify(jar); err != nil {
		t.Fatalf("clean contract refused: %v", err)
	}
}

// refusal compiles one method body into com/acme/Bad and checks Verify's
// error names what it should.
func TestVerifyRefusals(t *testing.T) {
	cases := []struct {
		name string
		body string // members of class com.acme.Bad
		want []string
	}{
		{"clock", `public long mint() { return System.currentTimeMillis(); }`,
			[]string{"com/acme/Bad.mint: invokestatic java/lang/System.currentTimeMillis()J at pc 0 — clocks are not deterministic"}},
		{"nanotime", `public long f() { long a = 1; return a + System.nanoTime(); }`,
			[]string{"com/acme/Bad.f: invokestatic java/lang/System.nanoTime()J at pc ", "clocks"}},
		{"instant", `public Object f() { return java.time.Instant.now(); }`,
			[]string{"invokestatic java/time/Instant.now()Ljava/time/Instant;", "clocks are not deterministic"}},
		{"clock-method-ref", `public java.util.function.LongSupplier f() { return System::currentTimeMillis; }`,
			[]string{"com/acme/Bad.f: invokedynamic", "java/lang/System.currentTimeMillis()J", "clocks are not deterministic"}},
		{"thread", `public void f() { new Thread(() -> {}).start(); }`,
			[]string{"com/acme/Bad.f: new java/lang/Thread at pc 0 — threads and synchronization are not deterministic"}},
		{"sleep", `public void f() throws Exception { Thread.sleep(5); }`,
			[]string{"invokestatic java/lang/Thread.sleep(J)V", "threads"}},
		{"executor", `public Object f() { return java.util.concurrent.Executors.newFixedThreadPool(2); }`,
			[]string{"java/util/concurrent/Executors.newFixedThreadPool", "threads"}},
		{"synchronized-block", `private final Object lock = new Object(); public void f() { synchronized (lock) { lock.hashCode(); } }`,
			[]string{"com/acme/Bad.f: monitorenter at pc", "threads"}},
		{"synchronized-method", `public synchronized void f() {}`,
			[]string{"com/acme/Bad.f: synchronized method f()V — threads"}},
		{"wait", `public void f() throws Exception { this.wait(); }`,
			[]string{"invokevirtual java/lang/Object.wait()V", "threads"}},
		{"reflection-forname", `public Object f() throws Exception { return Class.forName("java.lang.String"); }`,
			[]string{"invokestatic java/lang/Class.forName(Ljava/lang/String;)Ljava/lang/Class;", "class loading is not allowed"}},
		{"reflection-getmethod", `public Object f() throws Exception { return getClass().getMethod("f").invoke(this); }`,
			[]string{"invokevirtual java/lang/Class.getMethod", "reflection is not allowed"}},
		{"random", `public int f() { return new java.util.Random().nextInt(); }`,
			[]string{"com/acme/Bad.f: new java/util/Random at pc 0 — randomness is not deterministic"}},
		{"securerandom", `public int f() { return new java.security.SecureRandom().nextInt(); }`,
			[]string{"new java/security/SecureRandom", "randomness"}},
		{"math-random", `public double f() { return Math.random(); }`,
			[]string{"invokestatic java/lang/Math.random()D at pc 0 — randomness is not deterministic"}},
		{"uuid", `public Object f() { return java.util.UUID.randomUUID(); }`,
			[]string{"java/util/UUID.randomUUID", "randomness"}},
		{"file-io", `public byte[] f() throws Exception { return new java.io.FileInputStream("/etc/passwd").readAllBytes(); }`,
			[]string{"new java/io/FileInputStream", "I/O is not deterministic"}},
		{"nio-files", `public byte[] f() throws Exception { return java.nio.file.Files.readAllBytes(java.nio.file.Path.of("/x")); }`,
			[]string{"java/nio/file/", "I/O is not deterministic"}},
		{"stdout", `public void f() { System.out.println("hi"); }`,
			[]string{"getstatic java/lang/System.out:Ljava/io/PrintStream;", "I/O"}},
		{"native", `public native int f();`,
			[]string{"com/acme/Bad.f: native method f()I — native methods are not allowed"}},
		{"exit", `public void f() { System.exit(1); }`,
			[]string{"java/lang/System.exit(I)V", "off limits"}},
		{"runtime", `public void f() throws Exception { Runtime.getRuntime().exec("ls"); }`,
			[]string{"java/lang/Runtime.getRuntime", "off limits"}},
		{"classloader", `public Object f() throws Exception { return ClassLoader.getSystemClassLoader().loadClass("x"); }`,
			[]string{"java/lang/ClassLoader", "class loading is not allowed"}},
		{"finalize", `protected void finalize() {}`,
			[]string{"com/acme/Bad.finalize: finalizer finalize()V", "garbage collector"}},
		{"getenv", `public String f() { return System.getenv("HOME"); }`,
			[]string{"java/lang/System.getenv", "environment"}},
		{"default-locale", `public String f(String s) { return s.toUpperCase(); }`,
			[]string{"java/lang/String.toUpperCase()Ljava/lang/String;", "locale"}},
		{"sin", `public double f(double x) { return Math.sin(x); }`,
			[]string{"java/lang/Math.sin(D)D", "StrictMath"}},
		{"catch-soe", `public int f() { try { return f(); } catch (StackOverflowError e) { return 0; } }`,
			[]string{"catch java/lang/StackOverflowError", "depend on the host"}},
		{"extends-thread", `static class T extends Thread {}`,
			[]string{"com/acme/Bad$T: extends java/lang/Thread — threads"}},
		{"field-type", `private java.util.Random r;`,
			[]string{"com/acme/Bad.r: field of type Ljava/util/Random;", "randomness"}},
		{"identity-hash", `public int f() { return System.identityHashCode(this); }`,
			[]string{"java/lang/System.identityHashCode", "identity hash"}},
		{"weak-ref", `public Object f() { return new java.lang.ref.WeakReference<>(this); }`,
			[]string{"java/lang/ref/WeakReference", "garbage-collector"}},
		{"set-of", `public Object f() { return java.util.Set.of("a", "b").iterator().next(); }`,
			[]string{"invokestatic java/util/Set.of(Ljava/lang/Object;Ljava/lang/Object;)Ljava/util/Set;", "salted per JVM run"}},
		{"map-of", `public Object f() { return java.util.Map.of("a", 1).keySet(); }`,
			[]string{"java/util/Map.of", "salted"}},
		{"to-unmodifiable-set", `public Object f(java.util.List<String> l) { return l.stream().collect(java.util.stream.Collectors.toUnmodifiableSet()); }`,
			[]string{"java/util/stream/Collectors.toUnmodifiableSet", "salted"}},
		{"parallel", `public long f(java.util.List<String> l) { return l.parallelStream().count(); }`,
			[]string{"parallelStream", "parallel streams"}},
		{"inherited-printstacktrace", `static class E extends RuntimeException {} public void f() { new E().printStackTrace(); }`,
			[]string{"invokevirtual com/acme/Bad$E.printStackTrace()V", "I/O"}},
		{"sdk-runtime", `public Object f() { return chain.constellation.contract.runtime.Main.class; }`,
			[]string{"chain/constellation/contract/runtime/Main", "SDK's runtime"}},
	}
	// One javac run for every case (javac dominates the test's time): case
	// i lives in package com.acme.c<i>, and its jar holds only that package.
	files := map[string]string{"chain/constellation/contract/runtime/Main.java": "package chain.constellation.contract.runtime; public class Main {}"}
	for i, tc := range cases {
		files[fmt.Sprintf("com/acme/c%d/Bad.java", i)] = fmt.Sprintf("package com.acme.c%d;\npublic class Bad {\n%s\n}\n", i, tc.body)
	}
	all := compileJar(t, files)
	for i, tc := range cases {
		i, tc := i, tc
		t.Run(tc.name, func(t *testing.T) {
			pkg := fmt.Sprintf("com/acme/c%d/", i)
			jar := keepEntries(t, all, pkg)
			err := Verify(jar)
			var verr *Error
			if !errors.As(err, &verr) {
				t.Fatalf("want a determinism refusal, got %v", err)
			}
			msg := strings.ReplaceAll(err.Error(), pkg, "com/acme/")
			t.Log(msg)
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error does not contain %q:\n%s", w, msg)
				}
			}
		})
	}
}

// keepEntries returns the jar with only the entries under prefix.
func keepEntries(t *testing.T, jar []byte, prefix string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(jar), int64(len(jar)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		if !strings.HasPrefix(f.Name, prefix) {
			continue
		}
		if err := zw.Copy(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestVerifyMalformedJars(t *testing.T) {
	jar := compileJar(t, map[string]string{"com/acme/Clean.java": cleanContract})
	mk := func(entries map[string][]byte) []byte {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for n, b := range entries {
			w, _ := zw.Create(n)
			w.Write(b)
		}
		zw.Close()
		return buf.Bytes()
	}
	zr, _ := zip.NewReader(bytes.NewReader(jar), int64(len(jar)))
	var cls []byte
	for _, f := range zr.File {
		if f.Name == "com/acme/Clean.class" {
			rc, _ := f.Open()
			var b bytes.Buffer
			b.ReadFrom(rc)
			cls = b.Bytes()
		}
	}
	cases := map[string]struct {
		jar  []byte
		want string
	}{
		"not a zip":     {[]byte("hello"), "not a valid zip"},
		"java 8":        {mk(map[string][]byte{"com/acme/Clean.class": append(append([]byte{}, cls[:6]...), append([]byte{0, 52}, cls[8:]...)...)}), "javac --release 17"},
		"empty":         {mk(nil), "no classes"},
		"wrong name":    {mk(map[string][]byte{"com/acme/Other.class": cls}), "holds class com/acme/Clean"},
		"truncated":     {mk(map[string][]byte{"com/acme/Clean.class": cls[:len(cls)/2]}), "truncated"},
		"bad magic":     {mk(map[string][]byte{"com/acme/Clean.class": append([]byte{1, 2, 3, 4}, cls[4:]...)}), "bad magic"},
		"java package":  {mk(map[string][]byte{"java/lang/Evil.class": cls}), "holds class"},
		"services":      {mk(map[string][]byte{"META-INF/services/java.nio.charset.spi.CharsetProvider": []byte("com.acme.Clean")}), "service provider"},
		"class-path":    {mk(map[string][]byte{"META-INF/MANIFEST.MF": []byte("Manifest-Version: 1.0\nClass-Path: /tmp/evil.jar\n"), "com/acme/Clean.class": cls}), "Class-Path is not allowed"},
		"multi-release": {mk(map[string][]byte{"META-INF/versions/17/com/acme/Clean.class": cls}), "multi-release"},
		"unsafe path":   {mk(map[string][]byte{"../x.class": cls}), "unsafe path"},
	}
	for name, tc := range cases {
		err := Verify(tc.jar)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", name, err, tc.want)
		}
	}
}

func TestVerifyRefusesReservedPackage(t *testing.T) {
	jar := compileJar(t, map[string]string{"chain/constellation/contract/State.java": "package chain.constellation.contract; public class State {}"})
	if err := Verify(jar); err == nil || !strings.Contains(err.Error(), "reserved package") {
		t.Fatalf("got %v, want a reserved-package refusal", err)
	}
}

func TestCommand(t *testing.T) {
	cmd := Command("/usr/bin/java", "/tmp/token.jar", []string{"/a.jar", "/b.jar"})
	got := strings.Join(cmd.Args, " ")
	for _, w := range []string{"-XX:hashCode=2", "-cp /a.jar:/b.jar", RuntimeMain + " /tmp/token.jar"} {
		if !strings.Contains(got, w) {
			t.Errorf("command %q lacks %q", got, w)
		}
	}
}

func TestToolchainNamesMissingPackages(t *testing.T) {
	old := JavaDir
	JavaDir = t.TempDir()
	defer func() { JavaDir = old }()
	_, err := DebianClasspath()
	if err == nil {
		t.Fatal("no error with no jars")
	}
	for _, w := range []string{"libgrpc-java", "libprotobuf-java", "libnetty-java", "libperfmark-java", "libgeronimo-annotation-1.3-spec-java", "make deps"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not name %s", err, w)
		}
	}
	if _, err := FindToolchain(); err == nil || !strings.Contains(err.Error(), "libgrpc-java") {
		t.Errorf("FindToolchain = %v, want the missing packages named", err)
	}
}
