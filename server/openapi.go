package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// obj and arr shorten the OpenAPI literals.
type obj = map[string]any

func ref(name string) obj        { return obj{"$ref": "#/components/schemas/" + name} }
func str() obj                   { return obj{"type": "string"} }
func arrayOf(items obj) obj      { return obj{"type": "array", "items": items} }
func nullable(s obj) obj         { return obj{"anyOf": []any{s, obj{"type": "null"}}} }
func enumOf(values []string) obj { return obj{"type": "string", "enum": values} }

// object returns an object schema whose properties are all required unless
// listed in optional.
func objectSchema(props obj, optional ...string) obj {
	var req []string
	for k := range props {
		opt := false
		for _, o := range optional {
			opt = opt || o == k
		}
		if !opt {
			req = append(req, k)
		}
	}
	slices.Sort(req)
	s := obj{"type": "object", "properties": props}
	if len(req) > 0 {
		s["required"] = req
	}
	return s
}

// formValue is a form value: a scalar or a list of at most one.
func formValue(s obj) obj { return obj{"anyOf": []any{s, arrayOf(s), obj{"type": "null"}}} }

// schemas are the components of the OpenAPI document.
func schemas() obj {
	amounts := objectSchema(obj{"cpu": obj{"type": "number"}, "memory": obj{"type": "integer", "description": "Bytes"}})
	boolOpt := formValue(obj{"anyOf": []any{obj{"type": "boolean"}, enumOf([]string{"true", "false"})}})
	return obj{
		"Metadata": objectSchema(obj{
			"name": str(), "version": str(), "description": str(),
			"repository_url": str(), "documentation_url": str(),
		}, "description", "repository_url", "documentation_url"),
		"Index":     objectSchema(obj{"metadata": ref("Metadata")}),
		"UserList":  arrayOf(str()),
		"UserGroup": objectSchema(obj{"name": str(), "id": obj{"type": "integer"}}),
		"UserInfo": objectSchema(obj{
			"username": str(), "name": nullable(str()), "uid": obj{"type": "integer"},
			"gid": obj{"type": "integer"}, "groups": arrayOf(ref("UserGroup")),
		}),
		"LabOptions": objectSchema(obj{
			"size": enumOf(labSizes), "enable_debug": obj{"type": "boolean"},
			"reset_user_env": obj{"type": "boolean"}, "image": obj{"type": "string", "description": "registry/repository:tag@digest"},
		}),
		"ResourceAmounts": amounts,
		"LabResources":    objectSchema(obj{"limits": ref("ResourceAmounts"), "requests": ref("ResourceAmounts")}),
		"LabState": objectSchema(obj{
			"user": ref("UserInfo"), "options": ref("LabOptions"),
			"status":       enumOf([]string{"pending", "running", "terminating", "terminated", "failed"}),
			"internal_url": nullable(str()), "resources": ref("LabResources"),
			"quota": nullable(ref("ResourceAmounts")),
		}),
		"UserOptions": objectSchema(obj{
			"size":           formValue(enumOf(labSizes)),
			"enable_debug":   boolOpt,
			"reset_user_env": boolOpt,
			"image_list":     formValue(str()),
			"image_dropdown": formValue(str()),
			"image_class":    formValue(enumOf(imageClasses)),
			"image_tag":      formValue(str()),
		}, "enable_debug", "reset_user_env", "image_list", "image_dropdown", "image_class", "image_tag"),
		"LabSpecification": objectSchema(obj{
			"options": ref("UserOptions"),
			"env": obj{"type": "object", "additionalProperties": str(),
				"description": "Must contain JUPYTERHUB_SERVICE_PREFIX"},
		}),
		"PrepulledImage": objectSchema(obj{
			"reference": str(), "tag": str(), "name": str(), "digest": str(),
			"aliases": arrayOf(str()), "prepulled": obj{"type": "boolean"},
		}, "digest"),
		"SpawnerImages": objectSchema(obj{
			"recommended": ref("PrepulledImage"), "latest_weekly": ref("PrepulledImage"),
			"latest_daily": ref("PrepulledImage"), "latest_release": ref("PrepulledImage"),
			"all": arrayOf(ref("PrepulledImage")),
		}, "recommended", "latest_weekly", "latest_daily", "latest_release"),
		"PrepullerStatus": objectSchema(obj{
			"config": obj{"type": "object"},
			"images": objectSchema(obj{"prepulled": arrayOf(obj{"type": "object"}), "pending": arrayOf(obj{"type": "object"})}),
			"nodes":  arrayOf(obj{"type": "object"}),
		}),
		"FileserverStatus": objectSchema(obj{"running": obj{"type": "boolean"}}),
		"FSAdminStatus":    objectSchema(obj{"start_time": obj{"type": "string", "format": "date-time"}}),
		"FSAdminRequest":   objectSchema(obj{"start": obj{"const": true}}),
		"ErrorDetail": objectSchema(obj{
			"loc": arrayOf(str()), "msg": str(), "type": str(),
		}, "loc"),
		"ErrorModel": objectSchema(obj{"detail": arrayOf(ref("ErrorDetail"))}),
		"ValidationError": objectSchema(obj{
			"loc": arrayOf(obj{"anyOf": []any{str(), obj{"type": "integer"}}}),
			"msg": str(), "type": str(), "input": obj{}, "ctx": obj{"type": "object"},
		}, "input", "ctx"),
		"HTTPValidationError": objectSchema(obj{"detail": arrayOf(ref("ValidationError"))}),
	}
}

// response returns an OpenAPI response for a schema name of operation.
func response(status int, schema string) obj {
	desc := http.StatusText(status)
	content := func(mime string, s obj) obj {
		return obj{"description": desc, "content": obj{mime: obj{"schema": s}}}
	}
	switch schema {
	case "":
		return obj{"description": desc}
	case schemaHTML:
		return content("text/html", str())
	case "text":
		return content("text/plain", str())
	case "sse":
		return content("text/event-stream", str())
	case "null":
		return content("application/json", obj{"type": "null"})
	case "object":
		return content("application/json", obj{"type": "object"})
	}
	return content("application/json", ref(schema))
}

var pathParam = regexp.MustCompile(`\{([^}]+)\}`)

// openAPIOperation documents one route.
func openAPIOperation(rt route) obj {
	op := rt.op
	var params []any
	for _, m := range pathParam.FindAllStringSubmatch(rt.path, -1) {
		params = append(params, obj{"name": m[1], "in": "path", "required": true, "schema": str()})
	}
	header := func(name string) obj {
		return obj{"name": name, "in": "header", "required": true, "schema": str()}
	}
	switch op.auth {
	case authUser:
		params = append(params, header("x-auth-request-user"), header("x-auth-request-token"))
	case authPath, authHeader:
		params = append(params, header("x-auth-request-user"))
	}
	responses := obj{}
	for status, schema := range op.responses {
		responses[strconv.Itoa(status)] = response(status, schema)
	}
	o := obj{"operationId": op.id, "summary": op.summary, "tags": []string{op.tag}, "responses": responses}
	if params != nil {
		o["parameters"] = params
	}
	if op.body != "" {
		o["requestBody"] = obj{"required": true, "content": obj{"application/json": obj{"schema": ref(op.body)}}}
	}
	return o
}

// buildOpenAPI returns the OpenAPI 3.1 document of routes.
func buildOpenAPI(s *Server, routes []route) ([]byte, error) {
	paths := obj{}
	for _, rt := range routes {
		item, _ := paths[rt.path].(obj)
		if item == nil {
			item = obj{}
			paths[rt.path] = item
		}
		item[strings.ToLower(rt.method)] = openAPIOperation(rt)
	}
	doc := obj{
		"openapi": "3.1.0",
		"info": obj{
			"title":       s.cfg.Name,
			"version":     s.version,
			"description": s.metadata().Description,
		},
		"paths":      paths,
		"components": obj{"schemas": schemas()},
	}
	return json.MarshalIndent(doc, "", "  ")
}

// mustOpenAPI builds the document once; the routes are static, so a
// failure is a programming error.
func mustOpenAPI(s *Server, routes []route) []byte {
	doc, err := buildOpenAPI(s, routes)
	if err != nil {
		panic(fmt.Sprintf("building the OpenAPI document: %v", err))
	}
	return doc
}

// getOpenAPI is route #20's {p}/openapi.json.
func (s *Server) getOpenAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(s.openapi)
	return nil
}
