package jvm

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Constant pool tags (JVMS §4.4).
const (
	tagUtf8               = 1
	tagInteger            = 3
	tagFloat              = 4
	tagLong               = 5
	tagDouble             = 6
	tagClass              = 7
	tagString             = 8
	tagFieldref           = 9
	tagMethodref          = 10
	tagInterfaceMethodref = 11
	tagNameAndType        = 12
	tagMethodHandle       = 15
	tagMethodType         = 16
	tagDynamic            = 17
	tagInvokeDynamic      = 18
	tagModule             = 19
	tagPackage            = 20
)

// Access flags used by the checks.
const (
	accStatic       = 0x0008
	accSynchronized = 0x0020
	accNative       = 0x0100
	accInterface    = 0x0200
	accAbstract     = 0x0400
	accModule       = 0x8000
)

// maxClassVersion is the class file major version of Java 17, the host
// JVM's, and the only one accepted: from version 61 on every floating-point
// operation is strict (JEP 306), so float and double give the same bits on
// every host.
const maxClassVersion = 61

// cpEntry is one constant pool slot. Which fields mean something depends on
// tag: a and b are the index operands (or a reference kind in a for
// MethodHandle), s the text of a Utf8.
type cpEntry struct {
	tag uint8
	a   uint16
	b   uint16
	s   string
}

type member struct {
	access uint16
	name   string
	desc   string
	code   *codeAttr // methods only; nil when absent
}

type exceptionEntry struct {
	startPC, endPC, handlerPC uint16
	catchType                 uint16 // 0: any (finally)
}

type codeAttr struct {
	code       []byte
	exceptions []exceptionEntry
}

type bootstrap struct {
	method uint16   // MethodHandle index
	args   []uint16 // loadable constant indexes
}

// classFile is the part of a parsed class file the checks use.
type classFile struct {
	major      uint16
	access     uint16
	pool       []cpEntry // index 0 unused
	name       string
	super      string // "" for java/lang/Object only
	interfaces []string
	fields     []member
	methods    []member
	bootstraps []bootstrap
}

// reader is a bounds-checked big-endian reader: it never panics, and a
// read past the end records an error and returns zeros.
type reader struct {
	b   []byte
	off int
	err error
}

var errTruncated = errors.New("truncated")

func (r *reader) need(n int) bool {
	if r.err != nil {
		return false
	}
	if n < 0 || len(r.b)-r.off < n {
		r.err = errTruncated
		return false
	}
	return true
}

func (r *reader) u1() uint8 {
	if !r.need(1) {
		return 0
	}
	v := r.b[r.off]
	r.off++
	return v
}

func (r *reader) u2() uint16 {
	if !r.need(2) {
		return 0
	}
	v := binary.BigEndian.Uint16(r.b[r.off:])
	r.off += 2
	return v
}

func (r *reader) u4() uint32 {
	if !r.need(4) {
		return 0
	}
	v := binary.BigEndian.Uint32(r.b[r.off:])
	r.off += 4
	return v
}

func (r *reader) bytes(n int) []byte {
	if !r.need(n) {
		return nil
	}
	v := r.b[r.off : r.off+n]
	r.off += n
	return v
}

// parseClass parses a class file. Every index it keeps is checked against
// the pool and the tag it must have, so the checks that follow can look
// entries up without further validation of the structure.
func parseClass(data []byte) (*classFile, error) {
	r := &reader{b: data}
	if r.u4() != 0xCAFEBABE {
		if r.err != nil {
			return nil, fmt.Errorf("class file truncated in its header")
		}
		return nil, fmt.Errorf("not a class file (bad magic)")
	}
	r.u2() // minor
	c := &classFile{major: r.u2()}
	if r.err != nil {
		return nil, fmt.Errorf("class file truncated in its header")
	}
	if c.major != maxClassVersion {
		return nil, fmt.Errorf("class file version %d is not supported: compile contracts with javac --release 17 (version %d), under which all floating point is strict", c.major, maxClassVersion)
	}
	n := int(r.u2())
	if n == 0 {
		return nil, fmt.Errorf("constant pool count is 0")
	}
	c.pool = make([]cpEntry, n)
	for i := 1; i < n; i++ {
		e := cpEntry{tag: r.u1()}
		switch e.tag {
		case tagUtf8:
			l := int(r.u2())
			e.s = string(r.bytes(l))
		case tagInteger, tagFloat:
			r.u4()
		case tagLong, tagDouble:
			r.u4()
			r.u4()
		case tagClass, tagString, tagMethodType, tagModule, tagPackage:
			e.a = r.u2()
		case tagFieldref, tagMethodref, tagInterfaceMethodref, tagNameAndType, tagDynamic, tagInvokeDynamic:
			e.a, e.b = r.u2(), r.u2()
		case tagMethodHandle:
			e.a, e.b = uint16(r.u1()), r.u2()
		default:
			if r.err == nil {
				return nil, fmt.Errorf("constant pool entry %d has unknown tag %d", i, e.tag)
			}
		}
		if r.err != nil {
			return nil, fmt.Errorf("class file truncated in constant pool entry %d", i)
		}
		c.pool[i] = e
		if e.tag == tagLong || e.tag == tagDouble {
			i++ // takes two slots; the next one is unusable (tag 0)
		}
	}
	if err := c.checkPool(); err != nil {
		return nil, err
	}
	c.access = r.u2()
	this, super := r.u2(), r.u2()
	if r.err != nil {
		return nil, fmt.Errorf("class file truncated after the constant pool")
	}
	var err error
	if c.name, err = c.className(this); err != nil {
		return nil, fmt.Errorf("this_class: %v", err)
	}
	if super != 0 {
		if c.super, err = c.className(super); err != nil {
			return nil, fmt.Errorf("super_class: %v", err)
		}
	}
	ni := int(r.u2())
	for i := 0; i < ni; i++ {
		name, err := c.className(r.u2())
		if err != nil {
			return nil, fmt.Errorf("interface %d: %v", i, err)
		}
		c.interfaces = append(c.interfaces, name)
	}
	if c.fields, err = c.parseMembers(r, false); err != nil {
		return nil, err
	}
	if c.methods, err = c.parseMembers(r, true); err != nil {
		return nil, err
	}
	na := int(r.u2())
	for i := 0; i < na; i++ {
		name, body, err := c.attribute(r)
		if err != nil {
			return nil, fmt.Errorf("class attribute %d: %v", i, err)
		}
		if name == "BootstrapMethods" {
			if c.bootstraps, err = c.parseBootstraps(body); err != nil {
				return nil, fmt.Errorf("BootstrapMethods: %v", err)
			}
		}
	}
	if r.err != nil {
		return nil, fmt.Errorf("class file truncated in its attributes")
	}
	if r.off != len(data) {
		return nil, fmt.Errorf("class file has %d bytes after its end", len(data)-r.off)
	}
	return c, nil
}

// checkPool checks that every index inside the pool names an entry of the
// right kind.
func (c *classFile) checkPool() error {
	want := func(i int, idx uint16, tags ...uint8) error {
		if int(idx) <= 0 || int(idx) >= len(c.pool) {
			return fmt.Errorf("constant pool entry %d refers to entry %d, outside the pool", i, idx)
		}
		got := c.pool[idx].tag
		for _, t := range tags {
			if got == t {
				return nil
			}
		}
		return fmt.Errorf("constant pool entry %d refers to entry %d of tag %d, want %v", i, idx, got, tags)
	}
	for i, e := range c.pool {
		var err error
		switch e.tag {
		case tagClass, tagString, tagMethodType, tagModule, tagPackage:
			err = want(i, e.a, tagUtf8)
		case tagFieldref, tagMethodref, tagInterfaceMethodref:
			if err = want(i, e.a, tagClass); err == nil {
				err = want(i, e.b, tagNameAndType)
			}
		case tagNameAndType:
			if err = want(i, e.a, tagUtf8); err == nil {
				err = want(i, e.b, tagUtf8)
			}
		case tagDynamic, tagInvokeDynamic:
			// e.a indexes the BootstrapMethods attribute, checked later.
			err = want(i, e.b, tagNameAndType)
		case tagMethodHandle:
			if e.a < 1 || e.a > 9 {
				return fmt.Errorf("constant pool entry %d: method handle kind %d is invalid", i, e.a)
			}
			err = want(i, e.b, tagFieldref, tagMethodref, tagInterfaceMethodref)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (c *classFile) entry(idx uint16, tags ...uint8) (cpEntry, bool) {
	if int(idx) <= 0 || int(idx) >= len(c.pool) {
		return cpEntry{}, false
	}
	e := c.pool[idx]
	for _, t := range tags {
		if e.tag == t {
			return e, true
		}
	}
	return cpEntry{}, false
}

func (c *classFile) utf8(idx uint16) (string, error) {
	e, ok := c.entry(idx, tagUtf8)
	if !ok {
		return "", fmt.Errorf("constant pool index %d is not a Utf8 entry", idx)
	}
	return e.s, nil
}

func (c *classFile) className(idx uint16) (string, error) {
	e, ok := c.entry(idx, tagClass)
	if !ok {
		return "", fmt.Errorf("constant pool index %d is not a Class entry", idx)
	}
	return c.pool[e.a].s, nil
}

// memberRef resolves a Fieldref, Methodref or InterfaceMethodref.
func (c *classFile) memberRef(idx uint16) (owner, name, desc string, tag uint8, ok bool) {
	e, ok := c.entry(idx, tagFieldref, tagMethodref, tagInterfaceMethodref)
	if !ok {
		return "", "", "", 0, false
	}
	owner = c.pool[c.pool[e.a].a].s
	nt := c.pool[e.b]
	return owner, c.pool[nt.a].s, c.pool[nt.b].s, e.tag, true
}

// nameAndType resolves the NameAndType of a Dynamic or InvokeDynamic entry.
func (c *classFile) nameAndType(e cpEntry) (name, desc string) {
	nt := c.pool[e.b]
	return c.pool[nt.a].s, c.pool[nt.b].s
}

func (c *classFile) attribute(r *reader) (name string, body []byte, err error) {
	ni := r.u2()
	l := r.u4()
	if r.err != nil {
		return "", nil, errTruncated
	}
	if name, err = c.utf8(ni); err != nil {
		return "", nil, fmt.Errorf("attribute name: %v", err)
	}
	if uint64(l) > uint64(len(r.b)-r.off) {
		return "", nil, fmt.Errorf("attribute %s of %d bytes is longer than the rest of the file", name, l)
	}
	return name, r.bytes(int(l)), nil
}

func (c *classFile) parseMembers(r *reader, methods bool) ([]member, error) {
	kind := "field"
	if methods {
		kind = "method"
	}
	n := int(r.u2())
	var out []member
	for i := 0; i < n; i++ {
		m := member{access: r.u2()}
		ni, di := r.u2(), r.u2()
		if r.err != nil {
			return nil, fmt.Errorf("class file truncated in %s %d", kind, i)
		}
		var err error
		if m.name, err = c.utf8(ni); err != nil {
			return nil, fmt.Errorf("%s %d name: %v", kind, i, err)
		}
		if m.desc, err = c.utf8(di); err != nil {
			return nil, fmt.Errorf("%s %s descriptor: %v", kind, m.name, err)
		}
		na := int(r.u2())
		for j := 0; j < na; j++ {
			an, body, err := c.attribute(r)
			if err != nil {
				return nil, fmt.Errorf("%s %s attribute %d: %v", kind, m.name, j, err)
			}
			if methods && an == "Code" {
				if m.code != nil {
					return nil, fmt.Errorf("method %s has two Code attributes", m.name)
				}
				if m.code, err = parseCode(body); err != nil {
					return nil, fmt.Errorf("method %s: Code: %v", m.name, err)
				}
			}
		}
		if r.err != nil {
			return nil, fmt.Errorf("class file truncated in %s %s", kind, m.name)
		}
		out = append(out, m)
	}
	return out, nil
}

func parseCode(body []byte) (*codeAttr, error) {
	r := &reader{b: body}
	r.u2() // max_stack
	r.u2() // max_locals
	l := r.u4()
	if r.err != nil {
		return nil, errTruncated
	}
	if l == 0 || l >= 65536 {
		return nil, fmt.Errorf("code length %d is out of range [1, 65535]", l)
	}
	ca := &codeAttr{code: r.bytes(int(l))}
	n := int(r.u2())
	for i := 0; i < n; i++ {
		ca.exceptions = append(ca.exceptions, exceptionEntry{r.u2(), r.u2(), r.u2(), r.u2()})
	}
	if r.err != nil {
		return nil, errTruncated
	}
	// Nested attributes (LineNumberTable, StackMapTable, …) carry no code.
	return ca, nil
}

func (c *classFile) parseBootstraps(body []byte) ([]bootstrap, error) {
	r := &reader{b: body}
	n := int(r.u2())
	var out []bootstrap
	for i := 0; i < n; i++ {
		b := bootstrap{method: r.u2()}
		if _, ok := c.entry(b.method, tagMethodHandle); !ok && r.err == nil {
			return nil, fmt.Errorf("bootstrap method %d: index %d is not a MethodHandle", i, b.method)
		}
		na := int(r.u2())
		for j := 0; j < na; j++ {
			a := r.u2()
			if _, ok := c.entry(a, tagInteger, tagFloat, tagLong, tagDouble, tagClass, tagString, tagMethodHandle, tagMethodType, tagDynamic); !ok && r.err == nil {
				return nil, fmt.Errorf("bootstrap method %d argument %d: index %d is not a loadable constant", i, j, a)
			}
			b.args = append(b.args, a)
		}
		if r.err != nil {
			return nil, errTruncated
		}
		out = append(out, b)
	}
	return out, nil
}

// descriptorClasses returns the class names a field or method descriptor
// mentions, or an error if it is malformed.
func descriptorClasses(desc string) ([]string, error) {
	var out []string
	i := 0
	method := len(desc) > 0 && desc[0] == '('
	if method {
		i = 1
	}
	field := func() error {
		for i < len(desc) && desc[i] == '[' {
			i++
		}
		if i >= len(desc) {
			return fmt.Errorf("descriptor %q ends early", desc)
		}
		switch desc[i] {
		case 'B', 'C', 'D', 'F', 'I', 'J', 'S', 'Z':
			i++
		case 'L':
			j := i + 1
			for j < len(desc) && desc[j] != ';' {
				j++
			}
			if j >= len(desc) || j == i+1 {
				return fmt.Errorf("descriptor %q has a malformed class name", desc)
			}
			out = append(out, desc[i+1:j])
			i = j + 1
		default:
			return fmt.Errorf("descriptor %q has an invalid type %q", desc, desc[i])
		}
		return nil
	}
	if !method {
		if err := field(); err != nil {
			return nil, err
		}
	} else {
		for i < len(desc) && desc[i] != ')' {
			if err := field(); err != nil {
				return nil, err
			}
		}
		if i >= len(desc) {
			return nil, fmt.Errorf("descriptor %q has no ')'", desc)
		}
		i++
		if i < len(desc) && desc[i] == 'V' {
			i++
		} else if err := field(); err != nil {
			return nil, err
		}
	}
	if i != len(desc) {
		return nil, fmt.Errorf("descriptor %q has trailing characters", desc)
	}
	return out, nil
}

// elementClass strips array dimensions from a Class entry's name: "[[Ljava/lang/String;"
// is java/lang/String, "[I" is "" (a primitive array).
func elementClass(name string) (string, error) {
	if len(name) == 0 || name[0] != '[' {
		if name == "" {
			return "", fmt.Errorf("empty class name")
		}
		return name, nil
	}
	cs, err := descriptorClasses(name)
	if err != nil {
		return "", err
	}
	if len(cs) == 0 {
		return "", nil
	}
	return cs[0], nil
}
