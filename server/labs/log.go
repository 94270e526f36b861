package labs

// Log field keys of the manager's log lines, besides logrus.ErrorKey.
const (
	FieldController = "controller"
	FieldUser       = "user"
	FieldNamespace  = "namespace"
	FieldKind       = "kind"
	FieldName       = "name"
	FieldImage      = "image"
	FieldEvent      = "event_type"
	FieldProgress   = "progress"
	FieldDuration   = "duration_ms"
	FieldAction     = "action"
)
