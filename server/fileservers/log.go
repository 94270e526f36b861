package fileservers

// Log field keys of the manager's log lines, besides logrus.ErrorKey.
const (
	FieldController = "controller"
	FieldUser       = "user"
	FieldNamespace  = "namespace"
	FieldKind       = "kind"
	FieldName       = "name"
	FieldDuration   = "duration_ms"
	FieldAction     = "action"
)
