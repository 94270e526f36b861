// Package server is the controller's HTTP layer: the spawner REST API that
// Nublado's JupyterHub spawner plugin calls, the file-server and fsadmin
// routes, metadata, metrics and the OpenAPI document (spec §1 of
// ../shared/spec/controller.md). [New] builds the chi router.
//
// Routes ({p} is the config's pathPrefix, {fp} fileserver.pathPrefix; auth
// U = Gafaelfawr user dependency, P = X-Auth-Request-User must equal the
// path user, H = the user is X-Auth-Request-User):
//
//	 #  method path                                      auth
//	 1  GET    /                                          —
//	 2  GET    {p}                                        —
//	 3  GET    {p}/spawner/v1/lab-form/{username}         U + path
//	 4  GET    {p}/spawner/v1/labs                        —
//	 5  GET    {p}/spawner/v1/labs/{username}             —
//	 6  POST   {p}/spawner/v1/labs/{username}/create      U + path
//	 7  DELETE {p}/spawner/v1/labs/{username}             —
//	 8  GET    {p}/spawner/v1/labs/{username}/events      P (Server-Sent Events)
//	 9  GET    {p}/spawner/v1/images                      —
//	10  GET    {p}/spawner/v1/prepulls                    —
//	11  GET    {p}/spawner/v1/user-status                 H
//	12  GET    {p}/fileserver/v1/users                    —
//	13  GET    {p}/fileserver/v1/users/{username}         —
//	14  DELETE {p}/fileserver/v1/users/{username}         —
//	15  GET    {p}/fileserver/v1/user-status              H
//	16  GET    {p}/fsadmin/v1/service                     —
//	17  POST   {p}/fsadmin/v1/service                     —
//	18  DELETE {p}/fsadmin/v1/service                     —
//	19  GET    {fp}                                       U
//	20  GET    {p}/openapi.json, {p}/docs, {p}/redoc      —
//	    GET    /metrics                                   — (Prometheus)
//
// The controller itself checks no bearer token: Gafaelfawr's ingress turns
// it into the X-Auth-Request-User and X-Auth-Request-Token headers, and the
// U dependency asks Gafaelfawr's user-info who the delegated token belongs
// to. Handlers return errors; one adapter turns them into responses with
// FastAPI's shapes: a [*nublado.Error] becomes its code's status and a
// {"detail":[{"loc":…,"msg":…,"type":…}]} body, request validation failures
// a 422 detail list, and anything else a logged 500 "Internal Server Error".
//
// The server keeps no state of its own. Labs, images, file servers, fsadmin
// and users are reached through the interfaces [Labs], [Images],
// [FileServers], [FSAdmin] and [Users], which the managers implement.
package server
