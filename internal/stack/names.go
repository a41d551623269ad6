package stack

import (
	"github.com/aiflow/aiflow/internal/stackmodel"
)

// localNames gives the template's resources the physical ids and
// attributes of this machine: queue URLs on the stack's SQS API, HTTP API
// and function URL endpoints on its listeners, the database cluster's
// endpoint on the local PostgreSQL server, secret ARNs as the stack's
// Secrets Manager made them. Everything else is named as AWS would name it.
type localNames struct {
	stackmodel.AWSNames
	sqsEndpoint  string
	apiEndpoints map[string]string // HTTP API logical id -> http://host:port
	functionURLs map[string]string // function URL logical id -> http://host:port/
	dbHost       string
	dbPort       string
	secretARNs   map[string]string // secret logical id -> ARN
}

func (n *localNames) Ref(r stackmodel.ResourceRef) (string, error) {
	switch r.Type {
	case "AWS::SQS::Queue":
		return n.queueURL(n.PhysicalName(r)), nil
	case "AWS::SecretsManager::Secret":
		if arn, ok := n.secretARNs[r.LogicalID]; ok {
			return arn, nil
		}
	}
	return n.AWSNames.Ref(r)
}

func (n *localNames) GetAtt(r stackmodel.ResourceRef, attr string) (string, error) {
	switch r.Type {
	case "AWS::SQS::Queue":
		if attr == "QueueUrl" {
			return n.queueURL(n.PhysicalName(r)), nil
		}
	case "AWS::Serverless::HttpApi", "AWS::ApiGatewayV2::Api":
		if u, ok := n.apiEndpoints[r.LogicalID]; ok && attr == "ApiEndpoint" {
			return u, nil
		}
	case "AWS::Lambda::Url":
		if u, ok := n.functionURLs[r.LogicalID]; ok && attr == "FunctionUrl" {
			return u, nil
		}
	case "AWS::RDS::DBCluster", "AWS::RDS::DBInstance", "AWS::RDS::DBProxy":
		switch attr {
		case "Endpoint.Address", "ReadEndpoint.Address", "Endpoint":
			return n.dbHost, nil
		case "Endpoint.Port":
			return n.dbPort, nil
		}
	case "AWS::SecretsManager::Secret":
		if attr == "Id" {
			return n.Ref(r)
		}
	}
	return n.AWSNames.GetAtt(r, attr)
}

// queueURL is a queue's URL on the stack's SQS API, as SQS forms them:
// the endpoint, the account and the queue's name.
func (n *localNames) queueURL(name string) string {
	return n.sqsEndpoint + "/" + n.AccountID + "/" + name
}
