package manifest

import (
	"fmt"
	"math"
	"math/big"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// errDiag builds an error diagnostic at r.
func errDiag(r hcl.Range, summary, detail string) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: r.Ptr()}
}

// typeName describes a value's type in an error message.
func typeName(v cty.Value) string {
	t := v.Type()
	switch {
	case v.IsNull():
		return "null"
	case t == cty.String:
		return "a string"
	case t == cty.Number:
		return "a number"
	case t == cty.Bool:
		return "a bool"
	case t.IsListType() || t.IsTupleType() || t.IsSetType():
		return "a list"
	case t.IsObjectType() || t.IsMapType():
		return "an object"
	default:
		return t.FriendlyName()
	}
}

// constValue evaluates a constant expression (checkConstants has already
// refused everything else) and refuses null.
func constValue(expr hcl.Expression, name string) (cty.Value, hcl.Diagnostics) {
	v, diags := expr.Value(nil)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	if v.IsNull() {
		return cty.NilVal, append(diags, errDiag(expr.Range(), "Null value",
			fmt.Sprintf("%s cannot be null. Give it a value, or remove the line to use the default where there is one.", name)))
	}
	if !v.IsWhollyKnown() {
		return cty.NilVal, append(diags, errDiag(expr.Range(), "Unknown value",
			fmt.Sprintf("%s must be a constant.", name)))
	}
	return v, diags
}

// stringValue decodes a string. Numbers and bools are not converted: a
// manifest says what it means.
func stringValue(expr hcl.Expression, name, hint string) (string, hcl.Diagnostics) {
	v, diags := constValue(expr, name)
	if diags.HasErrors() {
		return "", diags
	}
	if v.Type() != cty.String {
		return "", append(diags, errDiag(expr.Range(), "Incorrect value type",
			fmt.Sprintf("%s must be a string, not %s. %s", name, typeName(v), hint)))
	}
	return v.AsString(), diags
}

// boolValue decodes a bool.
func boolValue(expr hcl.Expression, name string) (bool, hcl.Diagnostics) {
	v, diags := constValue(expr, name)
	if diags.HasErrors() {
		return false, diags
	}
	if v.Type() != cty.Bool {
		return false, append(diags, errDiag(expr.Range(), "Incorrect value type",
			fmt.Sprintf("%s must be true or false, not %s.", name, typeName(v))))
	}
	return v.True(), diags
}

// wholeNumber decodes a number and checks that it is a whole number in
// [lo, hi]. The range check happens on the big.Float before any conversion,
// so a huge literal costs nothing.
func wholeNumber(expr hcl.Expression, name string, lo, hi *big.Float, hint string) (*big.Float, hcl.Diagnostics) {
	v, diags := constValue(expr, name)
	if diags.HasErrors() {
		return nil, diags
	}
	if v.Type() != cty.Number {
		return nil, append(diags, errDiag(expr.Range(), "Incorrect value type",
			fmt.Sprintf("%s must be a number, not %s. %s", name, typeName(v), hint)))
	}
	f := v.AsBigFloat()
	if f.IsInf() {
		return nil, append(diags, errDiag(expr.Range(), "Number out of range",
			fmt.Sprintf("%s must be a finite whole number. %s", name, hint)))
	}
	if !f.IsInt() {
		return nil, append(diags, errDiag(expr.Range(), "Not a whole number",
			fmt.Sprintf("%s must be a whole number. %s", name, hint)))
	}
	if f.Cmp(lo) < 0 || f.Cmp(hi) > 0 {
		return nil, append(diags, errDiag(expr.Range(), "Number out of range",
			fmt.Sprintf("%s must be between %s and %s. %s", name, lo.Text('f', 0), hi.Text('f', 0), hint)))
	}
	return f, diags
}

var (
	bigZero      = new(big.Float)
	bigOne       = new(big.Float).SetInt64(1)
	bigMaxInt64  = new(big.Float).SetInt64(math.MaxInt64)
	bigMaxUint64 = new(big.Float).SetUint64(math.MaxUint64)
)

// intValue decodes a whole number in [lo, hi] (both within int64).
func intValue(expr hcl.Expression, name string, lo, hi int64, hint string) (int64, hcl.Diagnostics) {
	f, diags := wholeNumber(expr, name, new(big.Float).SetInt64(lo), new(big.Float).SetInt64(hi), hint)
	if f == nil {
		return 0, diags
	}
	n, _ := f.Int64()
	return n, diags
}

// uintValue decodes a whole number in [1, 2^64-1].
func uintValue(expr hcl.Expression, name, hint string) (uint64, hcl.Diagnostics) {
	f, diags := wholeNumber(expr, name, bigOne, bigMaxUint64, hint)
	if f == nil {
		return 0, diags
	}
	n, _ := f.Uint64()
	return n, diags
}

// stringList decodes a static list of strings, returning each element's
// range so that a bad element is reported on its own line.
func stringList(expr hcl.Expression, name, hint string) ([]string, []hcl.Range, hcl.Diagnostics) {
	exprs, diags := hcl.ExprList(expr)
	if diags.HasErrors() {
		got := "something else"
		if v, vd := expr.Value(nil); !vd.HasErrors() && v.IsWhollyKnown() {
			got = typeName(v)
		}
		return nil, nil, hcl.Diagnostics{errDiag(expr.Range(), "Incorrect value type",
			fmt.Sprintf("%s must be a list of strings in brackets, not %s. %s", name, got, hint))}
	}
	out := make([]string, 0, len(exprs))
	ranges := make([]hcl.Range, 0, len(exprs))
	for _, e := range exprs {
		s, d := stringValue(e, "Each element of "+name, hint)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		out = append(out, s)
		ranges = append(ranges, e.Range())
	}
	return out, ranges, diags
}
