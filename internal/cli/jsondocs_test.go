package cli

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/ghlogin/ghlogin/internal/session"
)

// Every field status --json and bind --list --json print is described in
// docs/json-events.md, so the document scripts read stays the one the docs
// describe.
func TestJSONDocumentFieldsAreDocumented(t *testing.T) {
	b, err := os.ReadFile("../../docs/json-events.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type, string)
	walk = func(typ reflect.Type, path string) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || seen[typ] || typ.PkgPath() == "time" {
			return
		}
		seen[typ] = true
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if f.Anonymous && tag == "" {
				walk(f.Type, path)
				continue
			}
			if tag == "-" || !f.IsExported() {
				continue
			}
			documented := false
			for _, form := range []string{"`" + tag + "`", "`" + tag + "[]`", "." + tag + "`", "." + tag + "[]`", `"` + tag + `"`} {
				documented = documented || strings.Contains(doc, form)
			}
			if !documented {
				t.Errorf("%s%s (%s.%s) is not described in docs/json-events.md", path, tag, typ.Name(), f.Name)
			}
			walk(f.Type, path+tag+".")
		}
	}
	walk(reflect.TypeOf(session.StatusReport{}), "")
	walk(reflect.TypeOf(bindingsDoc{}), "")
}
