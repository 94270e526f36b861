package server

import (
	"fmt"
	"strings"
)

// FieldError is one entry of a FastAPI (pydantic v2) request-validation
// error: {"type", "loc", "msg", "input", ["ctx"]}. Loc elements are
// strings or integers; Input is the offending input (null when missing).
type FieldError struct {
	Type  string         `json:"type"`
	Loc   []any          `json:"loc"`
	Msg   string         `json:"msg"`
	Input any            `json:"input"`
	Ctx   map[string]any `json:"ctx,omitempty"`
}

// ValidationError is a 422 answer: {"detail": [FieldError, …]}.
type ValidationError struct {
	Detail []FieldError `json:"detail"`
}

func (e *ValidationError) Error() string {
	msgs := make([]string, len(e.Detail))
	for i, d := range e.Detail {
		msgs[i] = fmt.Sprintf("%v: %s", d.Loc, d.Msg)
	}
	return "request validation: " + strings.Join(msgs, "; ")
}

// validationError returns nil when there are no field errors.
func validationError(errs []FieldError) error {
	if len(errs) == 0 {
		return nil
	}
	return &ValidationError{Detail: errs}
}

// loc builds a location.
func loc(parts ...any) []any { return parts }

func missing(input any, parts ...any) FieldError {
	return FieldError{Type: "missing", Loc: parts, Msg: "Field required", Input: input}
}

// valueError is the error of a custom validator: "Value error, <text>".
func valueError(input any, text string, parts ...any) FieldError {
	return FieldError{
		Type: "value_error", Loc: parts, Msg: "Value error, " + text, Input: input,
		Ctx: map[string]any{"error": map[string]any{}},
	}
}

func stringType(input any, parts ...any) FieldError {
	return FieldError{Type: "string_type", Loc: parts, Msg: "Input should be a valid string", Input: input}
}

func dictType(input any, parts ...any) FieldError {
	return FieldError{Type: "dict_type", Loc: parts, Msg: "Input should be a valid dictionary", Input: input}
}

func modelType(input any, parts ...any) FieldError {
	return FieldError{
		Type: "model_attributes_type", Loc: parts,
		Msg: "Input should be a valid dictionary or object to extract fields from", Input: input,
	}
}

// enumError is pydantic's error for a value outside an enum.
func enumError(input any, values []string, parts ...any) FieldError {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = "'" + v + "'"
	}
	expected := strings.Join(quoted[:len(quoted)-1], ", ") + " or " + quoted[len(quoted)-1]
	return FieldError{
		Type: "enum", Loc: parts, Msg: "Input should be " + expected, Input: input,
		Ctx: map[string]any{"expected": expected},
	}
}
