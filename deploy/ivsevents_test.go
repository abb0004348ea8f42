package deploy

import (
	"slices"
	"testing"

	"go.yaml.in/yaml/v4"
)

// ivs-events.yaml is read as CloudFormation would: the rule matches IVS's
// stage events and targets the queue, the queue lets only that rule send,
// failures end in a dead-letter queue after as many receives as ivslive's
// own cap, and the policy grants what the consumer and the reconciler call.
func TestIVSEventsTemplate(t *testing.T) {
	var tpl struct {
		Resources map[string]struct {
			Type       string         `yaml:"Type"`
			Properties map[string]any `yaml:"Properties"`
		} `yaml:"Resources"`
		Parameters map[string]map[string]any `yaml:"Parameters"`
		Outputs    map[string]map[string]any `yaml:"Outputs"`
	}
	if err := yaml.Unmarshal(readFile(t, "ivs-events.yaml"), &tpl); err != nil {
		t.Fatal(err)
	}
	res := func(name, typ string) map[string]any {
		t.Helper()
		r, ok := tpl.Resources[name]
		if !ok || r.Type != typ {
			t.Fatalf("resource %s: %+v, want a %s", name, r, typ)
		}
		return r.Properties
	}
	getAtt := func(v any) string {
		m, _ := v.(map[string]any)
		l, _ := m["Fn::GetAtt"].([]any)
		if len(l) != 2 || l[1] != "Arn" {
			return ""
		}
		s, _ := l[0].(string)
		return s
	}

	rule := res("IvsStageUpdateRule", "AWS::Events::Rule")
	pattern := rule["EventPattern"].(map[string]any)
	if !slices.Equal(pattern["source"].([]any), []any{"aws.ivs"}) || !slices.Equal(pattern["detail-type"].([]any), []any{"IVS Stage Update"}) {
		t.Errorf("event pattern = %v, want source aws.ivs and detail-type IVS Stage Update", pattern)
	}
	targets := rule["Targets"].([]any)
	if len(targets) != 1 || getAtt(targets[0].(map[string]any)["Arn"]) != "EventQueue" {
		t.Errorf("rule targets = %v, want the event queue", targets)
	}

	queue := res("EventQueue", "AWS::SQS::Queue")
	if queue["ReceiveMessageWaitTimeSeconds"] != 20 || queue["VisibilityTimeout"] != 30 {
		t.Errorf("queue = %v, want long polling (20 s) and a 30 s visibility timeout", queue)
	}
	redrive := queue["RedrivePolicy"].(map[string]any)
	if getAtt(redrive["deadLetterTargetArn"]) != "DeadLetterQueue" || tpl.Parameters["MaxReceiveCount"]["Default"] != 5 {
		t.Errorf("redrive = %v, MaxReceiveCount default %v; want the dead-letter queue after 5 receives (sqs.DefaultMaxReceives)", redrive, tpl.Parameters["MaxReceiveCount"]["Default"])
	}
	res("DeadLetterQueue", "AWS::SQS::Queue")

	doc := res("EventQueuePolicy", "AWS::SQS::QueuePolicy")["PolicyDocument"].(map[string]any)
	stmt := doc["Statement"].([]any)[0].(map[string]any)
	cond := stmt["Condition"].(map[string]any)["ArnEquals"].(map[string]any)
	if stmt["Principal"].(map[string]any)["Service"] != "events.amazonaws.com" || stmt["Action"] != "sqs:SendMessage" ||
		getAtt(stmt["Resource"]) != "EventQueue" || getAtt(cond["aws:SourceArn"]) != "IvsStageUpdateRule" {
		t.Errorf("queue policy statement = %v, want events.amazonaws.com to send to the queue for the rule only", stmt)
	}

	var actions []string
	for _, s := range res("IvsliveEventsPolicy", "AWS::IAM::ManagedPolicy")["PolicyDocument"].(map[string]any)["Statement"].([]any) {
		for _, a := range s.(map[string]any)["Action"].([]any) {
			actions = append(actions, a.(string))
		}
	}
	for _, want := range []string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueUrl", "ivs:ListParticipants", "ivs:ListParticipantReplicas"} {
		if !slices.Contains(actions, want) {
			t.Errorf("the policy lacks %s (has %v)", want, actions)
		}
	}
	if _, ok := tpl.Outputs["QueueUrl"]; !ok {
		t.Error("no QueueUrl output for IVS_EVENTS_QUEUE_URL")
	}
}
