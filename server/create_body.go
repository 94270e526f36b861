package server

import (
	nublado "github.com/nublado-go/nublado"
)

// ParseCreateBody parses and validates the body of a create request
// (POST …/labs/{username}/create, §1.3 #6) exactly as the route does: the
// options with JupyterHub's form-data rules, the image attributes and env
// with JUPYTERHUB_SERVICE_PREFIX. It returns the request without User and
// Token, which come from the caller's authentication, or a
// [*ValidationError] holding every problem (the route's 422 body). `nublado
// render lab` reads its --spec file with it.
func ParseCreateBody(data []byte) (nublado.CreateRequest, error) {
	body, err := decodeBody(data)
	if err != nil {
		return nublado.CreateRequest{}, err
	}
	spec, errs := parseLabSpec(body)
	if err := validationError(errs); err != nil {
		return nublado.CreateRequest{}, err
	}
	return nublado.CreateRequest{
		Size: spec.Size, EnableDebug: spec.EnableDebug, ResetUserEnv: spec.ResetUserEnv,
		Image: spec.Image, Env: spec.Env,
	}, nil
}
