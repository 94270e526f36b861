package main

import (
	"go/parser"
	"go/token"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const goSrc = `package v1

type Pod struct {
	metav1.TypeMeta ` + "`json:\"\"`" + `
	ObjectMeta metav1.ObjectMeta ` + "`json:\"metadata\"`" + `
}

type Event struct {
	Object runtime.Object
}

type IngressRule struct {
	IngressRuleValue ` + "`json:\",inline,omitempty\"`" + `
}

type named struct {
	Decoder ` + "`json:\"decoder\"`" + `
}
`

const cueSrc = `package v1

#Pod: {
	TypeMeta: metav1.#TypeMeta

	metadata?: metav1.#ObjectMeta @go(ObjectMeta)
}

#Event: {
	Object: runtime.#Object
}

#IngressRule: {
	IngressRuleValue?: #IngressRuleValue @protobuf(2,bytes,opt,name=ingressRuleValue)
}

_#named: {
	decoder: #Decoder @go(Decoder)
}

#values_Type: {
	String: #String
}
`

const want = `package v1

#Pod: {
	metav1.#TypeMeta

	metadata?: metav1.#ObjectMeta @go(ObjectMeta)
}

#Event: {
	Object: runtime.#Object
}

#IngressRule: {
	#IngressRuleValue
}

_#named: {
	decoder: #Decoder @go(Decoder)
}

#values_Type: {
	String: #String
}
`

// TestFixFile rewrites exactly the fields Go embeds without a JSON name:
// not named fields that look alike, not enum value maps.
func TestFixFile(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "types.go", goSrc, parser.SkipObjectResolution)
	require.NoError(t, err)
	embeds := map[string]map[string]bool{}
	collectEmbeddings(f, embeds)
	assert.Equal(t, map[string]map[string]bool{"Pod": {"TypeMeta": true}, "IngressRule": {"IngressRuleValue": true}}, embeds)

	got, n, err := fixFile("types_go_gen.cue", []byte(cueSrc), embeds)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Equal(t, want, string(got), "fixFile: -want +got")
}
