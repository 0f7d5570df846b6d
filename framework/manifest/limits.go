package manifest

import (
	"fmt"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Shape limits. The HCL parser and evaluator recurse once per nesting level
// and per operator in a chain; these bounds keep a hostile manifest from
// exhausting the stack (a Go stack overflow cannot be recovered). Real
// manifests nest four or five levels deep and use a handful of operators.
const (
	// MaxNesting bounds the nesting of blocks, brackets, parentheses,
	// strings and template sequences.
	MaxNesting = 32
	// MaxOperators bounds the operators within one list element, object
	// item or attribute value at one nesting level.
	MaxOperators = 256
)

// checkShape lexes src and enforces MaxNesting and MaxOperators before the
// recursive parser sees it. The lexer itself is a state machine and does
// not recurse.
func checkShape(filename string, src []byte) hcl.Diagnostics {
	toks, diags := hclsyntax.LexConfig(src, filename, hcl.Pos{Line: 1, Column: 1, Byte: 0})
	if diags.HasErrors() {
		return diags
	}
	// ops[i] counts operators at nesting level i since the last separator.
	ops := []int{0}
	kinds := []hclsyntax.TokenType{hclsyntax.TokenNil}
	for _, t := range toks {
		top := len(ops) - 1
		switch t.Type {
		case hclsyntax.TokenOBrace, hclsyntax.TokenOBrack, hclsyntax.TokenOParen,
			hclsyntax.TokenOQuote, hclsyntax.TokenOHeredoc,
			hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl:
			ops[top]++ // an index or call on the left also deepens the tree
			if ops[top] > MaxOperators {
				return tooComplex(t.Range)
			}
			if len(ops) >= MaxNesting {
				return hcl.Diagnostics{{
					Severity: hcl.DiagError,
					Summary:  "Manifest nested too deeply",
					Detail: fmt.Sprintf("Blocks, lists, parentheses and strings nest more than %d levels deep here. "+
						"A manifest needs only a few levels; check for unclosed brackets or quotes.", MaxNesting),
					Subject: t.Range.Ptr(),
				}}
			}
			ops = append(ops, 0)
			kinds = append(kinds, t.Type)
		case hclsyntax.TokenCBrace, hclsyntax.TokenCBrack, hclsyntax.TokenCParen,
			hclsyntax.TokenCQuote, hclsyntax.TokenCHeredoc, hclsyntax.TokenTemplateSeqEnd:
			if len(ops) > 1 {
				ops = ops[:top]
				kinds = kinds[:top]
			}
		case hclsyntax.TokenComma:
			ops[top] = 0
		case hclsyntax.TokenNewline:
			// Newlines separate attributes and object items inside braces
			// and at the top level; inside brackets and parentheses they
			// are insignificant.
			if k := kinds[top]; k == hclsyntax.TokenNil || k == hclsyntax.TokenOBrace {
				ops[top] = 0
			}
		case hclsyntax.TokenStar, hclsyntax.TokenSlash, hclsyntax.TokenPlus, hclsyntax.TokenMinus,
			hclsyntax.TokenPercent, hclsyntax.TokenEqualOp, hclsyntax.TokenNotEqual,
			hclsyntax.TokenLessThan, hclsyntax.TokenLessThanEq, hclsyntax.TokenGreaterThan,
			hclsyntax.TokenGreaterThanEq, hclsyntax.TokenAnd, hclsyntax.TokenOr, hclsyntax.TokenBang,
			hclsyntax.TokenQuestion, hclsyntax.TokenColon, hclsyntax.TokenDot, hclsyntax.TokenEllipsis,
			hclsyntax.TokenFatArrow:
			ops[top]++
			if ops[top] > MaxOperators {
				return tooComplex(t.Range)
			}
		}
	}
	return nil
}

func tooComplex(r hcl.Range) hcl.Diagnostics {
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Expression too complex",
		Detail: fmt.Sprintf("More than %d operators appear in one value here. "+
			"Manifest values are constants; write the value out literally.", MaxOperators),
		Subject: r.Ptr(),
	}}
}

// checkConstants walks the syntax tree and refuses every expression that is
// not a constant: references, function calls, conditionals, for
// expressions, splats, indexing and string interpolation. Besides keeping
// manifests plain, this means no expression can build an enormous value
// (such as a number with a billion-digit decimal form) during evaluation.
// Literals, lists, objects, unary - and !, and + - * / on those are
// accepted.
func checkConstants(body hcl.Body) hcl.Diagnostics {
	b, ok := body.(*hclsyntax.Body)
	if !ok {
		return nil
	}
	return constBody(b)
}

func constBody(b *hclsyntax.Body) hcl.Diagnostics {
	var diags hcl.Diagnostics
	names := make([]string, 0, len(b.Attributes))
	for n := range b.Attributes {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		diags = append(diags, constExpr(b.Attributes[n].Expr)...)
	}
	for _, blk := range b.Blocks {
		diags = append(diags, constBody(blk.Body)...)
	}
	return diags
}

func constExpr(e hclsyntax.Expression) hcl.Diagnostics {
	switch x := e.(type) {
	case *hclsyntax.LiteralValueExpr:
		return nil
	case *hclsyntax.TemplateExpr:
		for _, p := range x.Parts {
			// A literal string part is plain text; any other part,
			// including a literal number or bool inside ${ }, is
			// interpolation.
			if lit, ok := p.(*hclsyntax.LiteralValueExpr); !ok || lit.Val.Type() != cty.String {
				return notConstant(p.Range(), "String interpolation and template directives")
			}
		}
		return nil
	case *hclsyntax.TupleConsExpr:
		var diags hcl.Diagnostics
		for _, el := range x.Exprs {
			diags = append(diags, constExpr(el)...)
		}
		return diags
	case *hclsyntax.ObjectConsExpr:
		var diags hcl.Diagnostics
		for _, it := range x.Items {
			diags = append(diags, constKey(it.KeyExpr)...)
			diags = append(diags, constExpr(it.ValueExpr)...)
		}
		return diags
	case *hclsyntax.ParenthesesExpr:
		return constExpr(x.Expression)
	case *hclsyntax.UnaryOpExpr:
		return constExpr(x.Val)
	case *hclsyntax.BinaryOpExpr:
		// Only + - * / : they are cheap on any operands. Modulo is not
		// (cty turns its operands into big integers), and comparisons and
		// logic have no use in a manifest.
		switch x.Op {
		case hclsyntax.OpAdd, hclsyntax.OpSubtract, hclsyntax.OpMultiply, hclsyntax.OpDivide:
			return append(constExpr(x.LHS), constExpr(x.RHS)...)
		}
		return notConstant(e.Range(), "Operators other than + - * /")
	case *hclsyntax.ScopeTraversalExpr, *hclsyntax.RelativeTraversalExpr:
		return notConstant(e.Range(), "References")
	case *hclsyntax.FunctionCallExpr:
		return notConstant(e.Range(), "Function calls")
	case *hclsyntax.TemplateWrapExpr, *hclsyntax.TemplateJoinExpr:
		return notConstant(e.Range(), "String interpolation and template directives")
	default:
		return notConstant(e.Range(), "Expressions of this kind")
	}
}

func constKey(e hclsyntax.Expression) hcl.Diagnostics {
	if k, ok := e.(*hclsyntax.ObjectConsKeyExpr); ok {
		// A naked identifier key is a literal name, not a reference.
		if t, ok := k.Wrapped.(*hclsyntax.ScopeTraversalExpr); ok && !k.ForceNonLiteral && len(t.Traversal) == 1 {
			return nil
		}
		return constExpr(k.Wrapped)
	}
	return constExpr(e)
}

func notConstant(r hcl.Range, what string) hcl.Diagnostics {
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Manifest values must be constants",
		Detail: what + " are not allowed in a manifest; values are constants, with only + - * / to combine numbers. " +
			"Write the value literally, e.g. \"text\", 42, true or [\"a\", \"b\"].",
		Subject: r.Ptr(),
	}}
}
