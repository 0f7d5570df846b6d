package jvm

import (
	"encoding/binary"
	"fmt"
)

// insnLen returns the length of the instruction at pc (JVMS §6.5), or an
// error if the opcode is invalid or the instruction runs past the code.
func insnLen(code []byte, pc int) (int, error) {
	op := code[pc]
	var n int
	switch {
	case op <= 0x0f:
		n = 1
	case op == 0x10, op == 0x12: // bipush, ldc
		n = 2
	case op == 0x11, op == 0x13, op == 0x14: // sipush, ldc_w, ldc2_w
		n = 3
	case op >= 0x15 && op <= 0x19: // loads with an index
		n = 2
	case op >= 0x1a && op <= 0x35:
		n = 1
	case op >= 0x36 && op <= 0x3a: // stores with an index
		n = 2
	case op >= 0x3b && op <= 0x83:
		n = 1
	case op == 0x84: // iinc
		n = 3
	case op >= 0x85 && op <= 0x98:
		n = 1
	case op >= 0x99 && op <= 0xa8: // branches, goto, jsr
		n = 3
	case op == 0xa9: // ret
		n = 2
	case op == 0xaa, op == 0xab: // tableswitch, lookupswitch
		base := pc + 1 + (3-pc%4)%4 // padding to a multiple of 4 from the code's start
		read := func(at int) (int32, bool) {
			if at < 0 || at+4 > len(code) {
				return 0, false
			}
			return int32(binary.BigEndian.Uint32(code[at:])), true
		}
		if op == 0xaa {
			low, ok1 := read(base + 4)
			high, ok2 := read(base + 8)
			if !ok1 || !ok2 {
				return 0, fmt.Errorf("tableswitch runs past the end of the code")
			}
			if high < low {
				return 0, fmt.Errorf("tableswitch has high %d below low %d", high, low)
			}
			count := int64(high) - int64(low) + 1
			if count > int64(len(code)) {
				return 0, fmt.Errorf("tableswitch has %d entries, more than the code holds", count)
			}
			n = base + 12 + int(count)*4 - pc
		} else {
			pairs, ok := read(base + 4)
			if !ok {
				return 0, fmt.Errorf("lookupswitch runs past the end of the code")
			}
			if pairs < 0 || int64(pairs) > int64(len(code)) {
				return 0, fmt.Errorf("lookupswitch has %d pairs", pairs)
			}
			n = base + 8 + int(pairs)*8 - pc
		}
	case op >= 0xac && op <= 0xb1: // returns
		n = 1
	case op >= 0xb2 && op <= 0xb8: // field access, invokevirtual/special/static
		n = 3
	case op == 0xb9, op == 0xba: // invokeinterface, invokedynamic
		n = 5
	case op == 0xbb: // new
		n = 3
	case op == 0xbc: // newarray
		n = 2
	case op == 0xbd: // anewarray
		n = 3
	case op >= 0xbe && op <= 0xbf: // arraylength, athrow
		n = 1
	case op == 0xc0, op == 0xc1: // checkcast, instanceof
		n = 3
	case op == 0xc2, op == 0xc3: // monitorenter, monitorexit
		n = 1
	case op == 0xc4: // wide
		if pc+1 >= len(code) {
			return 0, fmt.Errorf("wide at the end of the code")
		}
		switch w := code[pc+1]; {
		case w == 0x84:
			n = 6
		case (w >= 0x15 && w <= 0x19) || (w >= 0x36 && w <= 0x3a) || w == 0xa9:
			n = 4
		default:
			return 0, fmt.Errorf("wide modifies opcode 0x%02x, which it cannot", w)
		}
	case op == 0xc5: // multianewarray
		n = 4
	case op == 0xc6, op == 0xc7: // ifnull, ifnonnull
		n = 3
	case op == 0xc8, op == 0xc9: // goto_w, jsr_w
		n = 5
	default:
		return 0, fmt.Errorf("invalid opcode 0x%02x", op)
	}
	if n <= 0 || pc+n > len(code) {
		return 0, fmt.Errorf("%s runs past the end of the code", mnemonic(op))
	}
	return n, nil
}

var mnemonics = map[byte]string{
	0x12: "ldc", 0x13: "ldc_w", 0x14: "ldc2_w", 0xaa: "tableswitch", 0xab: "lookupswitch",
	0xb2: "getstatic", 0xb3: "putstatic", 0xb4: "getfield", 0xb5: "putfield",
	0xb6: "invokevirtual", 0xb7: "invokespecial", 0xb8: "invokestatic", 0xb9: "invokeinterface",
	0xba: "invokedynamic", 0xbb: "new", 0xbd: "anewarray", 0xc0: "checkcast", 0xc1: "instanceof",
	0xc2: "monitorenter", 0xc3: "monitorexit", 0xc4: "wide", 0xc5: "multianewarray",
}

func mnemonic(op byte) string {
	if s, ok := mnemonics[op]; ok {
		return s
	}
	return fmt.Sprintf("opcode 0x%02x", op)
}
