package wifcel

import (
	"strconv"
	"strings"

	"github.com/google/cel-go/cel"
	celast "github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/operators"
	"github.com/google/cel-go/common/types"
)

// Condition is a compiled attribute condition.
type Condition struct {
	expr string
	ast  *cel.Ast
	prg  cel.Program
}

// compileCondition compiles x and checks that it is a boolean expression.
func compileCondition(e *cel.Env, x string) (*Condition, *ExprError) {
	ast, prg, perr := compile(e, "condition", x)
	if perr != nil {
		return nil, perr
	}
	if t := ast.OutputType(); !t.IsExactType(cel.BoolType) && !t.IsExactType(cel.DynType) {
		return nil, &ExprError{Key: "condition", Expr: x, Message: "the condition must be a boolean expression, not a " + t.String()}
	}
	return &Condition{expr: x, ast: ast, prg: prg}, nil
}

// String returns the condition's text.
func (c *Condition) String() string { return c.expr }

// eval evaluates the condition against an activation.
func (c *Condition) eval(act map[string]any) (bool, *ExprError) {
	v, err := eval(c.ast, c.prg, act)
	if err != nil {
		err.Key = "condition"
		return false, err
	}
	b, ok := v.(types.Bool)
	if !ok {
		return false, &ExprError{Key: "condition", Expr: c.expr, Message: "the condition evaluates to a " + v.Type().TypeName() + ", not a bool"}
	}
	return bool(b), nil
}

// Ref is a value an expression reads: a claim (assertion.NAME...) or a
// mapped attribute (google.NAME, attribute.NAME).
type Ref struct {
	// Path is how the expression names it ("assertion.repository").
	Path string `json:"path"`
	// Present tells whether the token (or the mapping) has it.
	Present bool `json:"present"`
	// Value is its value when present.
	Value any `json:"value,omitempty"`
	// TestOnly is set when the expression only tests its presence (has()).
	TestOnly bool `json:"test_only,omitempty"`
}

// Clause is a part of the condition and its value for one token: the whole
// condition, each operand of a chain of && or ||, and so on down.
type Clause struct {
	// Text is the clause as CEL.
	Text string `json:"text"`
	// Op is "&&" or "||" when the clause is a chain of them; "" otherwise.
	Op string `json:"op,omitempty"`
	// Value is the clause's value; nil when it failed to evaluate.
	Value *bool `json:"value"`
	// Error says why it failed to evaluate.
	Error string `json:"error,omitempty"`
	// Refs are the claims and attributes the clause reads, with their values.
	Refs []Ref `json:"refs,omitempty"`
	// Parts are the operands of a chain.
	Parts []*Clause `json:"parts,omitempty"`
}

// Culprit returns the innermost clause that decides a false or failing
// result: the first false (or failing) operand of an && chain, followed
// down; for an || chain that is false, the chain itself (every operand is
// false). It returns c when c is true.
func (c *Clause) Culprit() *Clause {
	if c.Value != nil && *c.Value {
		return c
	}
	if c.Op == "&&" {
		for _, p := range c.Parts {
			if p.Value == nil || !*p.Value {
				return p.Culprit()
			}
		}
	}
	if c.Op == "||" {
		for _, p := range c.Parts {
			if p.Value == nil {
				return p.Culprit()
			}
		}
	}
	return c
}

// maxExplainDepth bounds how far Explain breaks chains down.
const maxExplainDepth = 3

// Explain evaluates the condition and each operand of its chains of && and
// || for claims and the attributes mapped from them.
func (c *Condition) Explain(claims map[string]any, attrs Attributes) *Clause {
	act := attrs.activation(claims)
	native := c.ast.NativeRep()
	return c.explain(native.Expr(), native.SourceInfo(), act, 0, true)
}

func (c *Condition) explain(x celast.Expr, info *celast.SourceInfo, act map[string]any, depth int, root bool) *Clause {
	cl := &Clause{}
	if root {
		cl.Text = c.expr
	} else if text, err := cel.ExprToString(x, info); err == nil {
		cl.Text = text
	}
	op := chainOp(x)
	if op != "" && depth < maxExplainDepth {
		cl.Op = map[string]string{operators.LogicalAnd: "&&", operators.LogicalOr: "||"}[op]
		for _, part := range flatten(x, op) {
			cl.Parts = append(cl.Parts, c.explain(part, info, act, depth+1, false))
		}
	} else {
		cl.Refs = refsOf(x, act)
	}
	// Evaluate this clause alone: its text is valid CEL in the same
	// environment, and no && or || operand refers to an outer variable.
	var v bool
	var err *ExprError
	if root {
		v, err = c.eval(act)
	} else if e, eerr := env(); eerr == nil {
		if sub, cerr := compileCondition(e, cl.Text); cerr == nil {
			v, err = sub.eval(act)
		} else {
			err = cerr
		}
	}
	if err != nil {
		cl.Error = err.Message
	} else {
		cl.Value = &v
	}
	return cl
}

// chainOp returns the && or || function of a call, or "".
func chainOp(x celast.Expr) string {
	if x.Kind() != celast.CallKind {
		return ""
	}
	if f := x.AsCall().FunctionName(); f == operators.LogicalAnd || f == operators.LogicalOr {
		return f
	}
	return ""
}

// flatten lists the operands of a chain of op, left to right (cel-go
// parses a && b && c as a balanced tree).
func flatten(x celast.Expr, op string) []celast.Expr {
	if chainOp(x) != op {
		return []celast.Expr{x}
	}
	var out []celast.Expr
	for _, a := range x.AsCall().Args() {
		out = append(out, flatten(a, op)...)
	}
	return out
}

// Reads returns what the condition reads, each path once, in order of
// first appearance; values are looked up in claims and attrs.
func (c *Condition) Reads(claims map[string]any, attrs Attributes) []Ref {
	return refsOf(c.ast.NativeRep().Expr(), attrs.activation(claims))
}

// refsOf lists the assertion, google and attribute paths x reads.
func refsOf(x celast.Expr, act map[string]any) []Ref {
	var out []Ref
	seen := map[string]int{}
	var visit func(e celast.Expr)
	visit = func(e celast.Expr) {
		if path, root, fields, testOnly, ok := selectPath(e); ok {
			v, present := lookup(act[root], fields)
			if i, dup := seen[path]; dup {
				if !testOnly {
					out[i].TestOnly = false
				}
				return
			}
			seen[path] = len(out)
			r := Ref{Path: path, Present: present, TestOnly: testOnly}
			if present {
				r.Value = v
			}
			out = append(out, r)
			return
		}
		switch e.Kind() {
		case celast.CallKind:
			call := e.AsCall()
			if call.IsMemberFunction() {
				visit(call.Target())
			}
			for _, a := range call.Args() {
				visit(a)
			}
		case celast.SelectKind:
			visit(e.AsSelect().Operand())
		case celast.ListKind:
			for _, el := range e.AsList().Elements() {
				visit(el)
			}
		case celast.MapKind:
			for _, en := range e.AsMap().Entries() {
				visit(en.AsMapEntry().Key())
				visit(en.AsMapEntry().Value())
			}
		case celast.ComprehensionKind:
			comp := e.AsComprehension()
			visit(comp.IterRange())
			visit(comp.AccuInit())
			visit(comp.LoopCondition())
			visit(comp.LoopStep())
			visit(comp.Result())
		}
	}
	visit(x)
	return out
}

// selectPath reads a chain of field selections (or constant string
// indexes) on assertion, google or attribute: "assertion.a.b".
func selectPath(e celast.Expr) (path, root string, fields []string, testOnly, ok bool) {
	cur := e
	for {
		switch cur.Kind() {
		case celast.SelectKind:
			s := cur.AsSelect()
			if s.IsTestOnly() {
				testOnly = true
			}
			fields = append([]string{s.FieldName()}, fields...)
			cur = s.Operand()
			continue
		case celast.CallKind:
			call := cur.AsCall()
			if call.FunctionName() != operators.Index || len(call.Args()) != 2 || call.Args()[1].Kind() != celast.LiteralKind {
				return "", "", nil, false, false
			}
			key, isStr := call.Args()[1].AsLiteral().(types.String)
			if !isStr {
				return "", "", nil, false, false
			}
			fields = append([]string{string(key)}, fields...)
			cur = call.Args()[0]
			continue
		case celast.IdentKind:
			root = cur.AsIdent()
		}
		break
	}
	if (root != "assertion" && root != "google" && root != "attribute") || len(fields) == 0 {
		return "", "", nil, false, false
	}
	var b strings.Builder
	b.WriteString(root)
	for _, f := range fields {
		if attrNameRe().MatchString(f) || isIdent(f) {
			b.WriteString("." + f)
		} else {
			b.WriteString("[" + strconv.Quote(f) + "]")
		}
	}
	return b.String(), root, fields, testOnly, true
}

func isIdent(s string) bool {
	for i, r := range s {
		if !(r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (i > 0 && r >= '0' && r <= '9')) {
			return false
		}
	}
	return s != ""
}

// lookup follows fields through nested maps.
func lookup(v any, fields []string) (any, bool) {
	for _, f := range fields {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[f]; !ok {
			return nil, false
		}
	}
	return v, true
}
