package engine

import (
	"regexp"
	"slices"
	"strings"

	"github.com/aiflow/aiflow/internal/asl"
	"github.com/aiflow/aiflow/internal/sfn"
)

// roleARN is the form of an IAM role's ARN, the check Step Functions
// applies to roleArn that needs no call to IAM: partition, no region, a
// 12-digit account and role/ with an optional path. Whether the role
// exists and trusts states.amazonaws.com only AWS can tell.
var roleARN = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$`)

// checkRoleARN refuses a role ARN that is not an IAM role's, with
// InvalidArn as Step Functions does. An empty role passes, where Step
// Functions requires one: the engine assumes no role, and the local tools
// (aiflow dev, aiflow run, their tests) create state machines without
// one, in process and over the wire.
func checkRoleARN(arn string) error {
	if arn == "" || len(arn) <= 256 && roleARN.MatchString(arn) {
		return nil
	}
	return errorf(sfn.CodeInvalidArn, "invalid roleArn %q: want an IAM role's ARN, arn:aws:iam::ACCOUNT:role/NAME", arn)
}

// checkCreateExtras checks what CreateStateMachine takes beside the
// definition: the role, and a version description only with publish.
func checkCreateExtras(in sfn.CreateStateMachineInput) error {
	if err := checkRoleARN(in.RoleARN); err != nil {
		return err
	}
	if in.VersionDescription != "" && !in.Publish {
		return errorf(sfn.CodeValidation, "versionDescription is only allowed with publish set to true")
	}
	return nil
}

// checkUpdateExtras is checkCreateExtras for UpdateStateMachine.
func checkUpdateExtras(in sfn.UpdateStateMachineInput) error {
	if in.RoleARN != nil {
		if err := checkRoleARN(*in.RoleARN); err != nil {
			return err
		}
	}
	if in.VersionDescription != "" && !in.Publish {
		return errorf(sfn.CodeValidation, "versionDescription is only allowed with publish set to true")
	}
	return nil
}

// checkCallbacks refuses, in an EXPRESS state machine, the integration
// patterns Express workflows do not support: Wait for Callback
// (.waitForTaskToken) and Run a Job (.sync), anywhere in the definition.
func checkCallbacks(typ string, sm *asl.StateMachine) error {
	if typ != sfn.TypeExpress {
		return nil
	}
	if loc, pattern := waitingTask("/States", sm.States); loc != "" {
		return errorf(sfn.CodeInvalidDefinition, "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Express state machine does not support '%s' service integration at %s'", pattern, loc)
	}
	return nil
}

// waitingTask finds a Task whose resource waits (.sync, .sync:2 or
// .waitForTaskToken) and returns where its Resource is and the pattern.
func waitingTask(at string, states map[string]*asl.State) (loc, pattern string) {
	names := make([]string, 0, len(states))
	for n := range states {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		s := states[n]
		here := at + "/" + n
		if s.Type == asl.TypeTask {
			for _, p := range []string{".waitForTaskToken", ".sync"} {
				if strings.HasSuffix(s.Resource, p) || strings.Contains(s.Resource, p+":") {
					return here + "/Resource", p
				}
			}
		}
		for i, b := range s.Branches {
			if loc, p := waitingTask(here+"/Branches/"+itoa(i)+"/States", b.States); loc != "" {
				return loc, p
			}
		}
		for _, proc := range []*asl.ItemProcessor{s.ItemProcessor, s.Iterator} {
			if proc == nil {
				continue
			}
			if loc, p := waitingTask(here+"/ItemProcessor/States", proc.States); loc != "" {
				return loc, p
			}
		}
	}
	return "", ""
}
