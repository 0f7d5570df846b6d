package jvm

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
)

// Limits on what Verify reads, so a hostile jar (a zip bomb, a huge
// constant pool) costs bounded memory and time.
const (
	MaxJarEntries      = 10000
	MaxClassBytes      = 8 << 20   // one uncompressed class file
	MaxJarUncompressed = 128 << 20 // all entries together
	maxViolations      = 50        // reported; the rest are counted
)

// Violation is one use of something non-deterministic. Method is "" for
// class-level findings (a superclass, a field's type), PC is -1 when no
// instruction is involved.
type Violation struct {
	Class       string // e.g. com/acme/Token
	Method      string // e.g. mint, or "" for the class itself
	Instruction string // e.g. "invokestatic java/lang/System.currentTimeMillis()J"
	PC          int
	Reason      string // e.g. "clocks are not deterministic"
}

func (v Violation) String() string {
	var b strings.Builder
	b.WriteString(v.Class)
	if v.Method != "" {
		b.WriteString(".")
		b.WriteString(v.Method)
	}
	b.WriteString(": ")
	b.WriteString(v.Instruction)
	if v.PC >= 0 {
		fmt.Fprintf(&b, " at pc %d", v.PC)
	}
	b.WriteString(" — ")
	b.WriteString(v.Reason)
	return b.String()
}

// Error is Verify's refusal of a jar whose code is well formed but uses
// something not on the allow-list. Each violation is on its own line.
type Error struct {
	Violations []Violation
	More       int // violations found beyond those listed
}

func (e *Error) Error() string {
	lines := make([]string, 0, len(e.Violations)+1)
	for _, v := range e.Violations {
		lines = append(lines, v.String())
	}
	if e.More > 0 {
		lines = append(lines, fmt.Sprintf("(and %d more)", e.More))
	}
	if len(lines) == 1 {
		return "jvm: contract is not deterministic: " + lines[0]
	}
	return "jvm: contract is not deterministic:\n  " + strings.Join(lines, "\n  ")
}

// reservedPackages may not be defined by a contract: the JDK's own and the
// SDK's (a contract class there could stand in for an SDK class).
var reservedPackages = []string{"java/", "javax/", "jdk/", "sun/", "com/sun/", "chain/constellation/"}

// Verify checks a contract jar before it is deployed: the zip and every
// class file in it are parsed, every method's bytecode is walked, and every
// class, method and field the code refers to must be the contract's own,
// the contract SDK's API, or on the allow-list of deterministic JDK classes
// and members (see policy.go). A malformed jar gets an error naming the
// entry; a jar that uses something refused gets an *Error naming, for each
// use, the class, method, instruction and reason. Verify never panics.
func Verify(jar []byte) error {
	zr, err := zip.NewReader(bytes.NewReader(jar), int64(len(jar)))
	if err != nil {
		return fmt.Errorf("jvm: contract jar is not a valid zip: %v", err)
	}
	if len(zr.File) > MaxJarEntries {
		return fmt.Errorf("jvm: contract jar has %d entries, limit %d", len(zr.File), MaxJarEntries)
	}
	seen := map[string]bool{}
	classes := map[string]*classFile{}
	var total uint64
	for _, f := range zr.File {
		name := f.Name
		if seen[name] {
			return fmt.Errorf("jvm: contract jar has entry %q twice", name)
		}
		seen[name] = true
		if strings.HasPrefix(name, "/") || strings.Contains(name, "\\") || strings.Contains(name, "\x00") ||
			(name != "" && path.Clean(name) != strings.TrimSuffix(name, "/")) || strings.HasPrefix(path.Clean(name), "..") {
			return fmt.Errorf("jvm: contract jar entry %q has an unsafe path", name)
		}
		if strings.HasSuffix(name, "/") {
			continue
		}
		upper := strings.ToUpper(name)
		isClass := strings.HasSuffix(name, ".class")
		switch {
		case strings.HasPrefix(upper, "META-INF/SERVICES/"):
			return fmt.Errorf("jvm: contract jar entry %q: service provider files are not allowed (the JDK would load the contract's classes through them)", name)
		case isClass && strings.HasPrefix(upper, "META-INF/"):
			return fmt.Errorf("jvm: contract jar entry %q: classes under META-INF (multi-release jars) are not allowed", name)
		case isClass && path.Base(name) == "module-info.class":
			return fmt.Errorf("jvm: contract jar entry %q: modules are not supported", name)
		}
		if !isClass && upper != "META-INF/MANIFEST.MF" {
			continue // a resource; nothing a contract may call can read it
		}
		data, err := readEntry(f, &total)
		if err != nil {
			return err
		}
		if !isClass {
			if err := checkManifest(data); err != nil {
				return fmt.Errorf("jvm: contract jar %s: %v", name, err)
			}
			continue
		}
		c, err := parseClass(data)
		if err != nil {
			return fmt.Errorf("jvm: contract jar entry %q: %v", name, err)
		}
		if c.name+".class" != name {
			return fmt.Errorf("jvm: contract jar entry %q holds class %s; the entry must be %s.class", name, c.name, c.name)
		}
		for _, p := range reservedPackages {
			if strings.HasPrefix(c.name, p) {
				return fmt.Errorf("jvm: contract jar defines %s, in the reserved package %s", c.name, strings.TrimSuffix(p, "/"))
			}
		}
		if c.access&accModule != 0 {
			return fmt.Errorf("jvm: contract jar entry %q: modules are not supported", name)
		}
		classes[c.name] = c
	}
	if len(classes) == 0 {
		return errors.New("jvm: contract jar has no classes")
	}
	v := &verifier{classes: classes}
	names := make([]string, 0, len(classes))
	for n := range classes {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := v.checkClass(classes[n]); err != nil {
			return fmt.Errorf("jvm: class %s: %v", n, err)
		}
	}
	if len(v.found) > 0 {
		return &Error{Violations: v.found, More: v.more}
	}
	return nil
}

func readEntry(f *zip.File, total *uint64) ([]byte, error) {
	if f.UncompressedSize64 > MaxClassBytes {
		return nil, fmt.Errorf("jvm: contract jar entry %q has %d bytes, limit %d", f.Name, f.UncompressedSize64, MaxClassBytes)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("jvm: contract jar entry %q: %v", f.Name, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, MaxClassBytes+1))
	if err != nil {
		return nil, fmt.Errorf("jvm: contract jar entry %q: %v", f.Name, err)
	}
	if len(data) > MaxClassBytes {
		return nil, fmt.Errorf("jvm: contract jar entry %q is larger than %d bytes", f.Name, MaxClassBytes)
	}
	*total += uint64(len(data))
	if *total > MaxJarUncompressed {
		return nil, fmt.Errorf("jvm: contract jar holds more than %d bytes uncompressed", MaxJarUncompressed)
	}
	return data, nil
}

// checkManifest refuses manifest attributes that make the JVM load code
// from outside the jar or run an agent.
func checkManifest(data []byte) error {
	for _, line := range strings.Split(string(data), "\n") {
		l := strings.ToLower(strings.TrimSpace(line))
		for _, attr := range []string{"class-path:", "launcher-agent-class:", "premain-class:", "agent-class:", "boot-class-path:", "add-opens:", "add-exports:", "enable-native-access:"} {
			if strings.HasPrefix(l, attr) {
				return fmt.Errorf("manifest attribute %s is not allowed", strings.TrimSuffix(strings.TrimSpace(line)[:len(attr)], ":"))
			}
		}
	}
	return nil
}

type verifier struct {
	classes map[string]*classFile
	found   []Violation
	more    int
}

func (v *verifier) add(c *classFile, method, insn string, pc int, why string) {
	if len(v.found) >= maxViolations {
		v.more++
		return
	}
	v.found = append(v.found, Violation{Class: c.name, Method: method, Instruction: insn, PC: pc, Reason: why})
}

// classReason is why a class may not be used, "" if it may. Array types
// are decided by their element type.
func (v *verifier) classReason(name string) string {
	el, err := elementClass(name)
	if err != nil {
		return err.Error()
	}
	if el == "" || v.classes[el] != nil {
		return ""
	}
	why := classVerdict(el)
	if why == whyNotListed {
		return el + " " + why
	}
	if why != "" && el != name {
		return el + ": " + why
	}
	return why
}

// descReason checks every class a descriptor names.
func (v *verifier) descReason(desc string) string {
	cs, err := descriptorClasses(desc)
	if err != nil {
		return err.Error()
	}
	for _, c := range cs {
		if why := v.classReason(c); why != "" {
			if !strings.HasPrefix(why, c) {
				why = c + ": " + why
			}
			return why
		}
	}
	return ""
}

// memberReason decides a field or method reference.
func (v *verifier) memberReason(owner, name, desc string) string {
	if why := v.classReason(owner); why != "" {
		return why
	}
	if why := v.descReason(desc); why != "" {
		return why
	}
	el, _ := elementClass(owner)
	if owner != el || el == "" {
		// A method of an array type (clone, length, Object's methods).
		if why, ok := globalDeny[name]; ok {
			return why
		}
		return ""
	}
	// A contract class: find who declares the member. If no contract
	// class along the superclass chain does, it is inherited from the JDK
	// and decided by the nearest JDK superclass.
	cur := owner
	for depth := 0; depth < 64; depth++ {
		c := v.classes[cur]
		if c == nil {
			break
		}
		for _, m := range c.methods {
			if m.name == name && m.desc == desc {
				return ""
			}
		}
		for _, f := range c.fields {
			if f.name == name && f.desc == desc {
				return ""
			}
		}
		if c.super == "" {
			return ""
		}
		cur = c.super
	}
	if v.classes[cur] != nil {
		return "superclass chain is too deep"
	}
	why := memberVerdict(cur, name, desc)
	if why == "is not on the allow-list" {
		return cur + "." + name + " " + why
	}
	return why
}

var allowedBootstraps = map[string]bool{
	"java/lang/invoke/StringConcatFactory.makeConcatWithConstants": true,
	"java/lang/invoke/StringConcatFactory.makeConcat":              true,
	"java/lang/invoke/LambdaMetafactory.metafactory":               true,
	"java/lang/invoke/LambdaMetafactory.altMetafactory":            true,
	"java/lang/runtime/ObjectMethods.bootstrap":                    true,
}

// Errors that report the JVM's own limits. Catching one would let a
// result depend on the host's stack size or heap, so they are refused as
// catch types (finally blocks, which rethrow, are fine).
var vmErrors = map[string]bool{
	"java/lang/VirtualMachineError": true, "java/lang/StackOverflowError": true,
	"java/lang/OutOfMemoryError": true, "java/lang/InternalError": true,
	"java/lang/UnknownError": true, "java/lang/ThreadDeath": true,
}

func (v *verifier) checkClass(c *classFile) error {
	if c.super == "" && c.name != "java/lang/Object" {
		return errors.New("has no superclass")
	}
	if why := v.classReason(c.super); why != "" {
		v.add(c, "", "extends "+c.super, -1, why)
	}
	for _, i := range c.interfaces {
		if why := v.classReason(i); why != "" {
			v.add(c, "", "implements "+i, -1, why)
		}
	}
	for _, f := range c.fields {
		if why := v.descReason(f.desc); why != "" {
			v.add(c, f.name, "field of type "+f.desc, -1, why)
		}
	}
	for i := range c.methods {
		m := &c.methods[i]
		if m.access&accNative != 0 {
			v.add(c, m.name, "native method "+m.name+m.desc, -1, whyNative)
		}
		if m.access&accSynchronized != 0 {
			v.add(c, m.name, "synchronized method "+m.name+m.desc, -1, whyThreads)
		}
		if m.name == "finalize" && m.desc == "()V" {
			v.add(c, m.name, "finalizer "+m.name+m.desc, -1, "finalizers run on the garbage collector's thread, which is not deterministic")
		}
		if why := v.descReason(m.desc); why != "" {
			v.add(c, m.name, "signature "+m.name+m.desc, -1, why)
		}
		if m.code == nil {
			if m.access&(accNative|accAbstract) == 0 {
				return fmt.Errorf("method %s%s has no code", m.name, m.desc)
			}
			continue
		}
		if err := v.checkCode(c, m); err != nil {
			return fmt.Errorf("method %s%s: %v", m.name, m.desc, err)
		}
	}
	return nil
}

func (v *verifier) checkCode(c *classFile, m *member) error {
	code := m.code.code
	for _, h := range m.code.exceptions {
		if h.catchType == 0 {
			continue
		}
		name, err := c.className(h.catchType)
		if err != nil {
			return fmt.Errorf("exception table: %v", err)
		}
		if vmErrors[name] {
			v.add(c, m.name, "catch "+name, int(h.handlerPC), "catching the JVM's resource errors makes a result depend on the host")
		} else if why := v.classReason(name); why != "" {
			v.add(c, m.name, "catch "+name, int(h.handlerPC), why)
		}
	}
	for pc := 0; pc < len(code); {
		op := code[pc]
		n, err := insnLen(code, pc)
		if err != nil {
			return fmt.Errorf("pc %d: %v", pc, err)
		}
		mn := mnemonic(op)
		switch op {
		case 0x12, 0x13, 0x14: // ldc, ldc_w, ldc2_w
			var idx uint16
			if op == 0x12 {
				idx = uint16(code[pc+1])
			} else {
				idx = uint16(code[pc+1])<<8 | uint16(code[pc+2])
			}
			if err := v.checkConstant(c, m.name, mn, pc, idx); err != nil {
				return fmt.Errorf("pc %d: %v", pc, err)
			}
		case 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9:
			idx := uint16(code[pc+1])<<8 | uint16(code[pc+2])
			owner, name, desc, tag, ok := c.memberRef(idx)
			isField := op <= 0xb5
			if !ok || (isField != (tag == tagFieldref)) || (op == 0xb9 && tag != tagInterfaceMethodref) || (op == 0xb6 && tag != tagMethodref) {
				return fmt.Errorf("pc %d: %s refers to constant %d, not a %s reference", pc, mn, idx, map[bool]string{true: "field", false: "method"}[isField])
			}
			insn := mn + " " + owner + "." + name + desc
			if isField {
				insn = mn + " " + owner + "." + name + ":" + desc
			}
			if why := v.memberReason(owner, name, desc); why != "" {
				v.add(c, m.name, insn, pc, why)
			}
		case 0xba: // invokedynamic
			idx := uint16(code[pc+1])<<8 | uint16(code[pc+2])
			e, ok := c.entry(idx, tagInvokeDynamic)
			if !ok {
				return fmt.Errorf("pc %d: invokedynamic refers to constant %d, not an InvokeDynamic entry", pc, idx)
			}
			if err := v.checkIndy(c, m.name, pc, e); err != nil {
				return fmt.Errorf("pc %d: %v", pc, err)
			}
		case 0xbb, 0xbd, 0xc0, 0xc1, 0xc5: // new, anewarray, checkcast, instanceof, multianewarray
			idx := uint16(code[pc+1])<<8 | uint16(code[pc+2])
			name, err := c.className(idx)
			if err != nil {
				return fmt.Errorf("pc %d: %s: %v", pc, mn, err)
			}
			if why := v.classReason(name); why != "" {
				v.add(c, m.name, mn+" "+name, pc, why)
			}
		case 0xc2, 0xc3:
			v.add(c, m.name, mn, pc, whyThreads)
		}
		pc += n
	}
	return nil
}

// checkConstant decides a loadable constant used by ldc or as a bootstrap
// argument.
func (v *verifier) checkConstant(c *classFile, method, mn string, pc int, idx uint16) error {
	if int(idx) <= 0 || int(idx) >= len(c.pool) {
		return fmt.Errorf("%s refers to constant %d, outside the pool", mn, idx)
	}
	e := c.pool[idx]
	switch e.tag {
	case tagInteger, tagFloat, tagLong, tagDouble, tagString:
	case tagClass:
		name := c.pool[e.a].s
		if why := v.classReason(name); why != "" {
			v.add(c, method, mn+" class "+name, pc, why)
		}
	case tagMethodType:
		desc := c.pool[e.a].s
		if why := v.descReason(desc); why != "" {
			v.add(c, method, mn+" method type "+desc, pc, why)
		}
	case tagMethodHandle:
		owner, name, desc, _, _ := c.memberRef(e.b)
		if why := v.memberReason(owner, name, desc); why != "" {
			v.add(c, method, mn+" method handle "+owner+"."+name+desc, pc, why)
		}
	case tagDynamic:
		name, desc := c.nameAndType(e)
		v.add(c, method, mn+" dynamic constant "+name+":"+desc, pc, "dynamic constants are not allowed")
	default:
		return fmt.Errorf("%s refers to constant %d of tag %d, which is not loadable", mn, idx, e.tag)
	}
	return nil
}

func (v *verifier) checkIndy(c *classFile, method string, pc int, e cpEntry) error {
	name, desc := c.nameAndType(e)
	insn := "invokedynamic " + name + desc
	if int(e.a) >= len(c.bootstraps) {
		return fmt.Errorf("invokedynamic names bootstrap method %d, and the class has %d", e.a, len(c.bootstraps))
	}
	bs := c.bootstraps[e.a]
	mh := c.pool[bs.method]
	owner, bname, _, _, _ := c.memberRef(mh.b)
	if !allowedBootstraps[owner+"."+bname] {
		v.add(c, method, insn+" (bootstrap "+owner+"."+bname+")", pc,
			"only string concatenation, lambda and record bootstraps are allowed")
		return nil
	}
	if why := v.descReason(desc); why != "" {
		v.add(c, method, insn, pc, why)
	}
	for _, a := range bs.args {
		if err := v.checkConstant(c, method, insn+" bootstrap argument", pc, a); err != nil {
			return err
		}
	}
	return nil
}
