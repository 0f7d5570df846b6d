// Package jvm is the JVM bridge's Go side: the deploy-time determinism
// check of a Java contract jar (Verify), and what a host needs to build and
// run one (FindToolchain, BuildJar, Command).
//
// Verify parses the jar and every class file itself and walks each
// method's bytecode, refusing any reference outside the contract's own
// classes, the SDK's API package and an allow-list of deterministic JDK
// classes and members (policy.go, after Corda's deterministic JVM sandbox).
// The error names the class, method, instruction and reason:
//
//	com/acme/Token.mint: invokestatic java/lang/System.currentTimeMillis()J at pc 12 — clocks are not deterministic
//
// The Java SDK is in plugins/java (built by plugins/java/build.sh); a
// complete example is plugins/examples/token-java. README.md beside this
// file is the author's guide and states the policy and its limits.
package jvm
