package schema

func warnings(cfg *Config, doc *document) []Warning { return nil }
