package slack

import "unicode/utf8"

// Slack's limits on the text of one block and of one field, in characters.
const (
	MaxSectionText = 3000
	MaxFieldText   = 2000
)

// Message is the body of a webhook post.
type Message struct {
	// Text is the notification fallback text; empty leaves it out.
	Text string `json:"text,omitempty"`
	// Blocks are the message's blocks, in order.
	Blocks []Block `json:"blocks"`
	// Attachments are shown below the blocks; none leaves them out.
	Attachments []Attachment `json:"attachments,omitempty"`
}

// Attachment is a secondary part of a message.
type Attachment struct {
	Blocks []Block `json:"blocks"`
}

// Block is a section (Text, or Fields, or both) or a divider.
type Block struct {
	Type   string  `json:"type"`
	Text   *Text   `json:"text,omitempty"`
	Fields []*Text `json:"fields,omitempty"`
}

// Text is a mrkdwn text. Verbatim true stops Slack from turning URLs and
// channel names into links.
type Text struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	Verbatim bool   `json:"verbatim,omitempty"`
}

// Section returns a section block of mrkdwn text, cut to MaxSectionText
// characters.
func Section(text string, verbatim bool) Block {
	return Block{Type: "section", Text: Mrkdwn(Truncate(text, MaxSectionText), verbatim)}
}

// Fields returns a section block of fields; each should be cut to
// MaxFieldText characters (see [Field]).
func Fields(fields ...*Text) Block { return Block{Type: "section", Fields: fields} }

// Field returns a verbatim mrkdwn field "*heading*\ntext", cut to
// MaxFieldText characters.
func Field(heading, text string) *Text {
	return Mrkdwn(Truncate("*"+heading+"*\n"+text, MaxFieldText), true)
}

// Divider returns a divider block.
func Divider() Block { return Block{Type: "divider"} }

// Mrkdwn returns a mrkdwn text object.
func Mrkdwn(text string, verbatim bool) *Text {
	return &Text{Type: "mrkdwn", Text: text, Verbatim: verbatim}
}

// Truncate cuts s to at most n characters (not bytes), ending it with "…"
// when it was cut.
func Truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
