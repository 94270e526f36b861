package slacktest

import "fmt"

// KubernetesAlert is the JSON of the Slack message the controller posts for
// a Kubernetes error with status 400 and message "Something bad happened"
// (the tests' fault injectors' answer), raised for user at
// 2077-10-23 12:00 (the tests' clock), about object, under summary.
func KubernetesAlert(summary, user, object string) string {
	return fmt.Sprintf(`{"blocks":[
		{"type":"section","text":{"type":"mrkdwn","text":"Error in Nublado: %s","verbatim":true}},
		{"type":"section","fields":[
			{"type":"mrkdwn","text":"*Exception type*\nKubernetesError","verbatim":true},
			{"type":"mrkdwn","text":"*Failed at*\n2077-10-23 12:00:00.000","verbatim":true},
			{"type":"mrkdwn","text":"*User*\n%s","verbatim":true},
			{"type":"mrkdwn","text":"*Status*\n400","verbatim":true}]},
		{"type":"section","text":{"type":"mrkdwn","text":"*Object*\n%s","verbatim":true}},
		{"type":"section","text":{"type":"mrkdwn","text":"*Error*\n`+"```"+`\nSomething bad happened\n`+"```"+`","verbatim":true}},
		{"type":"divider"}]}`, summary, user, object)
}
