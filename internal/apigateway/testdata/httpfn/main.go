// Command httpfn is the test function of package apigateway: a Go Lambda
// handler of HTTP API events, as functions/api is one. It answers the
// event it was given as its JSON body, and fails with an error for the
// path /fail.
package main

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func handle(_ context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	if ev.RawPath == "/fail" {
		return events.APIGatewayV2HTTPResponse{}, errors.New("asked to fail")
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	return events.APIGatewayV2HTTPResponse{
		StatusCode: 200,
		Headers:    map[string]string{"content-type": "application/json", "x-function": "httpfn"},
		Cookies:    []string{"fn=1"},
		Body:       string(body),
	}, nil
}

func main() { lambda.Start(handle) }
