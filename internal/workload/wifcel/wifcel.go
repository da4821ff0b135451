// Package wifcel judges a subject token's claims the way Google's Security
// Token Service does for a workload identity pool provider: it evaluates the
// provider's attribute mapping and attribute condition, both written in the
// Common Expression Language (CEL, github.com/google/cel-go), and applies the
// limits STS puts on the result.
//
// The environment follows Google's reference for WorkloadIdentityPoolProvider
// (attributeMapping, attributeCondition) and the workload identity
// federation guide: the variables assertion (the token's claims), google
// (google.subject, google.groups) and attribute (custom attributes), CEL's
// standard functions and macros (has, in, startsWith, matches, exists, ...)
// and Google's extract() (see Extract).
//
// ghlogin's `oidc doctor` and the emulator's STS fake both judge tokens with
// Judge, so they agree by construction.
package wifcel

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
)

// Limits Google documents for a provider's mapping and condition, and those
// STS applies to a subject token.
const (
	// MaxSubjectBytes bounds the mapped google.subject.
	MaxSubjectBytes = 127
	// MaxMappingExprLen bounds one attribute mapping expression.
	MaxMappingExprLen = 2048
	// MaxConditionLen bounds the attribute condition.
	MaxConditionLen = 4096
	// MaxCustomAttributes bounds the number of attribute.* mappings.
	MaxCustomAttributes = 50
	// MaxAttributeNameLen bounds the NAME of attribute.NAME.
	MaxAttributeNameLen = 100
	// MaxAttributesBytes bounds the total size of all mapped values.
	MaxAttributesBytes = 8 << 10
	// ClockSkew is how far in the future STS accepts a token's iat and nbf.
	ClockSkew = 5 * time.Minute
	// MaxTokenLifetime bounds a subject token's exp - iat.
	MaxTokenLifetime = 24 * time.Hour
)

// Keys of the mapping that Google defines.
const (
	KeySubject = "google.subject"
	KeyGroups  = "google.groups"
)

// DefaultMapping is an OIDC provider's attribute mapping when none is set:
// google.subject is the token's sub.
func DefaultMapping() map[string]string { return map[string]string{KeySubject: "assertion.sub"} }

var attrNameRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9_]+$`) })

// env is the one CEL environment, built once.
var env = sync.OnceValues(func() (*cel.Env, error) {
	dyn := cel.MapType(cel.StringType, cel.DynType)
	return cel.NewEnv(
		cel.Variable("assertion", dyn),
		cel.Variable("google", dyn),
		cel.Variable("attribute", dyn),
		cel.Function("extract",
			cel.MemberOverload("string_extract_string", []*cel.Type{cel.StringType, cel.StringType}, cel.StringType,
				cel.BinaryBinding(func(s, tmpl ref.Val) ref.Val {
					v, ok := s.(types.String)
					t, ok2 := tmpl.(types.String)
					if !ok || !ok2 {
						return types.NoSuchOverloadErr()
					}
					out, err := Extract(string(v), string(t))
					if err != nil {
						return types.WrapErr(err)
					}
					return types.String(out)
				}))),
	)
})

// Env returns the CEL environment of mappings and conditions.
func Env() (*cel.Env, error) { return env() }

// Extract is Google's extract(): template holds one {name} placeholder, and
// the result is the part of s between the text before the placeholder (the
// prefix, found at its first occurrence) and the next occurrence after it of
// the text after the placeholder (the suffix; empty means the end of s). It
// is "" when the prefix or the suffix is not found. For example
// "arn:aws:sts::1:assumed-role/deployer/s1".extract("assumed-role/{role}/")
// is "deployer" (Google's IAM Conditions reference documents the function).
func Extract(s, template string) (string, error) {
	open := strings.IndexByte(template, '{')
	close := strings.IndexByte(template, '}')
	if open < 0 || close < open || strings.Count(template, "{") != 1 || strings.Count(template, "}") != 1 {
		return "", fmt.Errorf("extract: the template %q must hold exactly one {name} placeholder", template)
	}
	prefix, suffix := template[:open], template[close+1:]
	i := strings.Index(s, prefix)
	if i < 0 {
		return "", nil
	}
	rest := s[i+len(prefix):]
	if suffix == "" {
		return rest, nil
	}
	j := strings.Index(rest, suffix)
	if j < 0 {
		return "", nil
	}
	return rest[:j], nil
}

// ExprError is an expression that does not compile or does not evaluate.
type ExprError struct {
	// Key is the mapping key ("google.subject", "attribute.repo") or
	// "condition".
	Key string
	// Expr is the expression's text.
	Expr string
	// Line (1-based) and Column (1-based) locate the problem in Expr; 0 when
	// unknown.
	Line, Column int
	// Message says what is wrong.
	Message string
	// Absent names the claim whose absence caused an evaluation error, if
	// that was the cause.
	Absent string
}

// Error names the key, the position and the problem.
func (e *ExprError) Error() string {
	where := e.Key
	if e.Line > 0 {
		where += fmt.Sprintf(" (line %d, column %d)", e.Line, e.Column)
	}
	return where + ": " + e.Message
}

// ConfigError lists what is wrong with a mapping or condition before any
// token is seen: expressions that do not compile, keys Google refuses,
// limits exceeded.
type ConfigError struct {
	Problems []*ExprError
}

// Error lists every problem.
func (e *ConfigError) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.Error()
	}
	return strings.Join(msgs, "; ")
}

// mapping is one compiled attribute mapping.
type mapping struct {
	key  string
	expr string
	ast  *cel.Ast
	prg  cel.Program
}

// Policy is a provider's compiled attribute mapping and condition.
type Policy struct {
	mappings  []*mapping // google.* first, then attribute.* by name
	condition *Condition // nil when there is none
}

// Compile checks and compiles a provider's attribute mapping (empty or nil
// means DefaultMapping) and condition ("" means none). Problems are a
// *ConfigError.
func Compile(attributeMapping map[string]string, condition string) (*Policy, error) {
	e, err := env()
	if err != nil {
		return nil, err
	}
	if len(attributeMapping) == 0 {
		attributeMapping = DefaultMapping()
	}
	var problems []*ExprError
	p := &Policy{}
	keys := make([]string, 0, len(attributeMapping))
	custom := 0
	for k := range attributeMapping {
		keys = append(keys, k)
	}
	sortKeys(keys)
	if _, ok := attributeMapping[KeySubject]; !ok {
		problems = append(problems, &ExprError{Key: KeySubject, Message: "google.subject must be mapped (for example google.subject=assertion.sub)"})
	}
	for _, k := range keys {
		x := attributeMapping[k]
		switch {
		case k == KeySubject, k == KeyGroups:
		case strings.HasPrefix(k, "attribute."):
			custom++
			name := strings.TrimPrefix(k, "attribute.")
			if !attrNameRe().MatchString(name) || len(name) > MaxAttributeNameLen {
				problems = append(problems, &ExprError{Key: k, Expr: x, Message: fmt.Sprintf("a custom attribute's name must be 1-%d characters of a-z, 0-9 and _", MaxAttributeNameLen)})
				continue
			}
		default:
			problems = append(problems, &ExprError{Key: k, Expr: x, Message: "a workload identity pool maps only google.subject, google.groups and attribute.NAME"})
			continue
		}
		if strings.TrimSpace(x) == "" {
			problems = append(problems, &ExprError{Key: k, Message: "the expression is empty"})
			continue
		}
		if len(x) > MaxMappingExprLen {
			problems = append(problems, &ExprError{Key: k, Expr: x, Message: fmt.Sprintf("the expression is %d characters long; Google allows %d", len(x), MaxMappingExprLen)})
			continue
		}
		ast, prg, perr := compile(e, k, x)
		if perr != nil {
			problems = append(problems, perr)
			continue
		}
		p.mappings = append(p.mappings, &mapping{key: k, expr: x, ast: ast, prg: prg})
	}
	if custom > MaxCustomAttributes {
		problems = append(problems, &ExprError{Key: "attribute.*", Message: fmt.Sprintf("%d custom attributes are mapped; Google allows %d", custom, MaxCustomAttributes)})
	}
	if strings.TrimSpace(condition) != "" {
		if len(condition) > MaxConditionLen {
			problems = append(problems, &ExprError{Key: "condition", Expr: condition, Message: fmt.Sprintf("the condition is %d characters long; Google allows %d", len(condition), MaxConditionLen)})
		} else if c, perr := compileCondition(e, condition); perr != nil {
			problems = append(problems, perr)
		} else {
			p.condition = c
		}
	}
	if len(problems) > 0 {
		return nil, &ConfigError{Problems: problems}
	}
	return p, nil
}

// compile parses, checks and plans one expression; errors carry the
// position of the first issue.
func compile(e *cel.Env, key, x string) (*cel.Ast, cel.Program, *ExprError) {
	ast, iss := e.Compile(x)
	if iss != nil && iss.Err() != nil {
		pe := &ExprError{Key: key, Expr: x, Message: iss.Err().Error()}
		if errs := iss.Errors(); len(errs) > 0 {
			pe.Message = errs[0].Message
			pe.Line, pe.Column = errs[0].Location.Line(), errs[0].Location.Column()+1
		}
		return nil, nil, pe
	}
	prg, err := e.Program(ast)
	if err != nil {
		return nil, nil, &ExprError{Key: key, Expr: x, Message: err.Error()}
	}
	return ast, prg, nil
}

// Mappings returns the mapping keys in evaluation order, with their expressions.
func (p *Policy) Mappings() [][2]string {
	out := make([][2]string, len(p.mappings))
	for i, m := range p.mappings {
		out[i] = [2]string{m.key, m.expr}
	}
	return out
}

// Condition returns the compiled condition, or nil when there is none.
func (p *Policy) Condition() *Condition { return p.condition }

// Attributes are the values a mapping produced. A value is a string, or a
// []string (google.groups, or a custom attribute mapped from a list).
type Attributes map[string]any

// Subject is google.subject ("" when unmapped).
func (a Attributes) Subject() string {
	s, _ := a[KeySubject].(string)
	return s
}

// Values returns the value(s) of key as a list.
func (a Attributes) Values(key string) []string {
	switch v := a[key].(type) {
	case string:
		return []string{v}
	case []string:
		return v
	}
	return nil
}

// Keys returns the mapped keys, google.* first, then attribute.* by name.
func (a Attributes) Keys() []string {
	keys := make([]string, 0, len(a))
	for k := range a {
		keys = append(keys, k)
	}
	sortKeys(keys)
	return keys
}

// sortKeys orders mapping keys: google.* first, then the rest by name.
func sortKeys(keys []string) {
	sort.Slice(keys, func(i, j int) bool {
		gi, gj := strings.HasPrefix(keys[i], "google."), strings.HasPrefix(keys[j], "google.")
		if gi != gj {
			return gi
		}
		return keys[i] < keys[j]
	})
}

// activation splits attributes into the google and attribute variables.
func (a Attributes) activation(claims map[string]any) map[string]any {
	g, c := map[string]any{}, map[string]any{}
	for k, v := range a {
		if name, ok := strings.CutPrefix(k, "google."); ok {
			g[name] = v
		} else if name, ok := strings.CutPrefix(k, "attribute."); ok {
			c[name] = v
		}
	}
	if claims == nil {
		claims = map[string]any{}
	}
	return map[string]any{"assertion": claims, "google": g, "attribute": c}
}

// Stage names the step that rejected a token.
type Stage string

// Stages of Judge, in order.
const (
	StageMapping   Stage = "mapping"
	StageSubject   Stage = "subject"
	StageCondition Stage = "condition"
)

// Rejection is why STS refuses a token.
type Rejection struct {
	Stage   Stage
	Message string
}

// Result is the outcome of Judge.
type Result struct {
	// Attributes are the mapped values (complete only when Mapping
	// succeeded).
	Attributes Attributes
	// Unset lists mappings left unset because they read a claim the token
	// does not have (not an error for custom attributes or google.groups).
	Unset []*ExprError
	// MappingErrors are mappings that failed to evaluate.
	MappingErrors []*ExprError
	// ConditionRan tells whether the condition was evaluated; Allowed is its
	// value and ConditionError its failure.
	ConditionRan   bool
	Allowed        bool
	ConditionError *ExprError
	// Rejection is nil when STS would accept the token.
	Rejection *Rejection
}

// Judge maps claims and evaluates the condition as STS does:
//   - a mapping that fails rejects the token, except that a custom attribute
//     or google.groups whose expression reads a claim the token lacks is
//     left unset (google.subject must always map);
//   - google.subject must be a non-empty string of at most 127 bytes, and
//     all values together at most 8 KiB;
//   - the condition must evaluate to true; an error (such as reading an
//     absent claim or an unset attribute) rejects the token.
func (p *Policy) Judge(claims map[string]any) *Result {
	res := &Result{Attributes: Attributes{}}
	act := Attributes{}.activation(claims)
	size := 0
	for _, m := range p.mappings {
		v, err := eval(m.ast, m.prg, act)
		if err != nil {
			err.Key = m.key
			if err.Absent != "" && m.key != KeySubject {
				res.Unset = append(res.Unset, err)
				continue
			}
			res.MappingErrors = append(res.MappingErrors, err)
			continue
		}
		val, msg := attributeValue(m.key, v)
		if msg != "" {
			res.MappingErrors = append(res.MappingErrors, &ExprError{Key: m.key, Expr: m.expr, Message: msg})
			continue
		}
		res.Attributes[m.key] = val
		for _, s := range res.Attributes.Values(m.key) {
			size += len(s)
		}
	}
	if len(res.MappingErrors) > 0 {
		first := res.MappingErrors[0]
		res.Rejection = &Rejection{Stage: StageMapping, Message: "the attribute mapping " + first.Error()}
		return res
	}
	sub := res.Attributes.Subject()
	switch {
	case sub == "":
		res.Rejection = &Rejection{Stage: StageSubject, Message: "google.subject maps to an empty value"}
		return res
	case len(sub) > MaxSubjectBytes:
		res.Rejection = &Rejection{Stage: StageSubject, Message: fmt.Sprintf("the size of mapped attribute google.subject (%d bytes) exceeds the %d bytes limit", len(sub), MaxSubjectBytes)}
		return res
	case size > MaxAttributesBytes:
		res.Rejection = &Rejection{Stage: StageMapping, Message: fmt.Sprintf("the mapped attributes total %d bytes; Google allows %d", size, MaxAttributesBytes)}
		return res
	}
	if p.condition == nil {
		res.Allowed = true
		return res
	}
	res.ConditionRan = true
	ok, cerr := p.condition.eval(res.Attributes.activation(claims))
	res.Allowed = ok
	res.ConditionError = cerr
	switch {
	case cerr != nil:
		res.Rejection = &Rejection{Stage: StageCondition, Message: "the attribute condition failed to evaluate: " + cerr.Message}
	case !ok:
		res.Rejection = &Rejection{Stage: StageCondition, Message: "the attribute condition is false"}
	}
	return res
}

// attributeValue converts a mapped value: google.subject must be a string,
// google.groups a list of strings, a custom attribute either.
func attributeValue(key string, v ref.Val) (any, string) {
	if s, ok := v.(types.String); ok {
		if key == KeyGroups {
			return []string{string(s)}, ""
		}
		return string(s), ""
	}
	list, ok := v.(traits.Lister)
	if !ok {
		return nil, fmt.Sprintf("the value is a %s, not a string; convert it with string(...)", v.Type().TypeName())
	}
	if key == KeySubject {
		return nil, "google.subject must be a string, not a list"
	}
	out := []string{}
	for it := list.Iterator(); it.HasNext() == types.True; {
		e := it.Next()
		s, ok := e.(types.String)
		if !ok {
			return nil, fmt.Sprintf("the list holds a %s; map a list of strings", e.Type().TypeName())
		}
		out = append(out, string(s))
	}
	return out, ""
}

// eval runs a program and turns an error into an *ExprError with its position.
func eval(ast *cel.Ast, prg cel.Program, act map[string]any) (ref.Val, *ExprError) {
	v, _, err := prg.Eval(act)
	if err == nil {
		return v, nil
	}
	ee := &ExprError{Expr: ast.Source().Content(), Message: err.Error()}
	var te *types.Err
	if errors.As(err, &te) && te.NodeID() != 0 {
		loc := ast.NativeRep().SourceInfo().GetStartLocation(te.NodeID())
		if loc.Line() > 0 {
			ee.Line, ee.Column = loc.Line(), loc.Column()+1
		}
	}
	if key, ok := strings.CutPrefix(err.Error(), "no such key: "); ok {
		ee.Absent = key
	}
	return v, ee
}
