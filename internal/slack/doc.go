// Package slack posts messages to a Slack incoming webhook.
//
// [Message] is the JSON body of a webhook post in Slack's Block Kit form:
// sections of mrkdwn text, sections of fields, and dividers, with optional
// attachments. [Post] sends one message and waits for Slack's answer;
// [Alerter] sends messages in the background through a bounded queue so
// that the code reporting a failure never waits for Slack.
//
// The package knows nothing of what a message says: the controller's
// error reports are built by server/alert and the purger's by
// provisioners/purger.
package slack
