package stackmodel

import (
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
)

// ResourceRef names a resource to a Names resolver: its logical id, its
// type, and the physical name the template gives it (FunctionName,
// QueueName, Name, LogGroupName, RoleName, ...), already resolved; Name is
// empty when CloudFormation would make one up.
type ResourceRef struct {
	LogicalID string
	Type      string
	Name      string
}

// Names gives resources their physical ids (what Ref returns) and their
// attributes (what Fn::GetAtt returns). The stack implements it with its
// local endpoints (queue URLs on its SQS server, state machine ARNs of its
// engine); AWSNames makes the names AWS would, and a stack's Names can
// embed it and answer only what it serves itself. An attribute a resource
// type does not have is an error wrapping ErrNoAttribute.
//
// Besides what the template's intrinsic functions name, Resolve asks for:
// the Ref, Arn and QueueName of every queue; the Ref and Arn of every
// function; the Arn and Name of every state machine; the Ref and
// ApiEndpoint of every HTTP API (SAM's implicit ServerlessHttpApi
// included); the Ref and Arn of every rule (and of the rules SAM makes
// for a function's EventBridgeRule events, named <Function><Event>); the
// Ref of every secret; the FunctionUrl of every function URL.
type Names interface {
	Ref(r ResourceRef) (string, error)
	GetAtt(r ResourceRef, attr string) (string, error)
}

// ErrNoAttribute is wrapped by Names.GetAtt's error when a resource type
// has no attribute of that name.
var ErrNoAttribute = errors.New("no such attribute")

// AWSNames makes the physical ids and attributes CloudFormation would
// give, deterministically: a resource without a name of its own is named
// <stack>-<logical id> (CloudFormation adds a random suffix).
type AWSNames struct {
	StackName string
	Region    string
	AccountID string
}

// PhysicalName is the name of r: the one the template gives, or
// <stack>-<logical id>.
func (n AWSNames) PhysicalName(r ResourceRef) string {
	if r.Name != "" {
		return r.Name
	}
	return n.StackName + "-" + r.LogicalID
}

// shortID is a stable, lowercase 10-character id for a resource, where
// AWS would make a random one (an API id, a security group id).
func shortID(s string) string {
	h := fnv.New64a()
	_, _ = h.Write([]byte(s))
	const digits = "0123456789abcdefghijklmnopqrstuvwxyz"
	v := h.Sum64()
	var b strings.Builder
	for range 10 {
		b.WriteByte(digits[v%36])
		v /= 36
	}
	return b.String()
}

// Ref returns what CloudFormation's Ref returns for r's type.
func (n AWSNames) Ref(r ResourceRef) (string, error) {
	name := n.PhysicalName(r)
	switch r.Type {
	case "AWS::SQS::Queue":
		return n.queueURL(name), nil
	case "AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine":
		return n.arn("states", "stateMachine:"+name), nil
	case "AWS::SecretsManager::Secret":
		return n.arn("secretsmanager", "secret:"+name+"-"+shortID(name)[:6]), nil
	case "AWS::Serverless::HttpApi", "AWS::ApiGatewayV2::Api":
		return shortID(n.StackName + "/" + r.LogicalID), nil
	case "AWS::EC2::SecurityGroup":
		return "sg-" + shortID(n.StackName+"/"+r.LogicalID), nil
	case "AWS::RDS::DBCluster", "AWS::RDS::DBInstance", "AWS::RDS::DBSubnetGroup":
		return strings.ToLower(name), nil
	case "AWS::S3::Bucket":
		// CloudFormation makes a bucket's name lowercase, as S3 wants.
		return strings.ToLower(name), nil
	}
	return name, nil
}

// GetAtt returns the attribute attr of r, or an error wrapping
// ErrNoAttribute.
func (n AWSNames) GetAtt(r ResourceRef, attr string) (string, error) {
	name := n.PhysicalName(r)
	lower := strings.ToLower(name)
	switch r.Type {
	case "AWS::SQS::Queue":
		switch attr {
		case "Arn":
			return n.arn("sqs", name), nil
		case "QueueUrl":
			return n.queueURL(name), nil
		case "QueueName":
			return name, nil
		}
	case "AWS::Serverless::Function", "AWS::Lambda::Function":
		if attr == "Arn" {
			return n.arn("lambda", "function:"+name), nil
		}
	case "AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine":
		switch attr {
		case "Arn":
			return n.arn("states", "stateMachine:"+name), nil
		case "Name":
			return name, nil
		}
	case "AWS::Serverless::HttpApi", "AWS::ApiGatewayV2::Api":
		id, _ := n.Ref(r)
		switch attr {
		case "ApiId":
			return id, nil
		case "ApiEndpoint":
			return "https://" + id + ".execute-api." + n.Region + ".amazonaws.com", nil
		}
	case "AWS::Logs::LogGroup":
		if attr == "Arn" {
			return n.arn("logs", "log-group:"+name+":*"), nil
		}
	case "AWS::IAM::Role":
		switch attr {
		case "Arn":
			return "arn:aws:iam::" + n.AccountID + ":role/" + name, nil
		case "RoleId":
			return "AROA" + strings.ToUpper(shortID(name)), nil
		}
	case "AWS::Events::Rule":
		if attr == "Arn" {
			return n.arn("events", "rule/"+name), nil
		}
	case "AWS::SecretsManager::Secret":
		if attr == "Id" {
			return n.Ref(r)
		}
	case "AWS::EC2::SecurityGroup":
		if attr == "GroupId" {
			return n.Ref(r)
		}
	case "AWS::RDS::DBCluster":
		host := lower + ".cluster-" + shortID(n.AccountID)[:8] + "." + n.Region + ".rds.amazonaws.com"
		switch attr {
		case "Endpoint.Address":
			return host, nil
		case "ReadEndpoint.Address":
			return strings.Replace(host, ".cluster-", ".cluster-ro-", 1), nil
		case "Endpoint.Port":
			return "5432", nil
		case "DBClusterArn":
			return n.arn("rds", "cluster:"+lower), nil
		case "DBClusterResourceId":
			return "cluster-" + strings.ToUpper(shortID(lower)), nil
		}
	case "AWS::RDS::DBInstance":
		switch attr {
		case "Endpoint.Address":
			return lower + "." + shortID(n.AccountID)[:8] + "." + n.Region + ".rds.amazonaws.com", nil
		case "Endpoint.Port":
			return "5432", nil
		case "DBInstanceArn":
			return n.arn("rds", "db:"+lower), nil
		}
	case "AWS::RDS::DBProxy":
		switch attr {
		case "Endpoint":
			return lower + ".proxy-" + shortID(n.AccountID)[:8] + "." + n.Region + ".rds.amazonaws.com", nil
		case "DBProxyArn":
			return n.arn("rds", "db-proxy:prx-"+shortID(lower)), nil
		}
	case "AWS::Lambda::Url":
		if attr == "FunctionUrl" {
			return "https://" + shortID(name) + ".lambda-url." + n.Region + ".on.aws/", nil
		}
	}
	return "", fmt.Errorf("%w: %s is not an attribute of %s", ErrNoAttribute, attr, r.Type)
}

func (n AWSNames) arn(service, resource string) string {
	return "arn:aws:" + service + ":" + n.Region + ":" + n.AccountID + ":" + resource
}

func (n AWSNames) queueURL(name string) string {
	return "https://sqs." + n.Region + ".amazonaws.com/" + n.AccountID + "/" + name
}

// nameProperties is the property of each type that sets its physical
// name.
var nameProperties = map[string]string{
	"AWS::Serverless::Function":        "FunctionName",
	"AWS::Lambda::Function":            "FunctionName",
	"AWS::SQS::Queue":                  "QueueName",
	"AWS::Serverless::StateMachine":    "Name",
	"AWS::StepFunctions::StateMachine": "StateMachineName",
	"AWS::Logs::LogGroup":              "LogGroupName",
	"AWS::IAM::Role":                   "RoleName",
	"AWS::Events::Rule":                "Name",
	"AWS::SecretsManager::Secret":      "Name",
	"AWS::RDS::DBCluster":              "DBClusterIdentifier",
	"AWS::RDS::DBInstance":             "DBInstanceIdentifier",
	"AWS::RDS::DBSubnetGroup":          "DBSubnetGroupName",
	"AWS::RDS::DBProxy":                "DBProxyName",
}
