package apigateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/aws/aws-lambda-go/events"

	"github.com/aiflow/aiflow/internal/apigateway"
	"github.com/aiflow/aiflow/internal/lambdaemu"
	"github.com/aiflow/aiflow/internal/stackmodel"
)

// An HTTP API with one route: the function receives a payload format 2.0
// event and answers with a response object.
func ExampleNewHTTPAPI() {
	api, err := apigateway.NewHTTPAPI(apigateway.HTTPAPIParams{
		API: stackmodel.HTTPAPI{LogicalID: "HttpApi", ID: "a1b2c3", Routes: []stackmodel.HTTPRoute{
			{Function: "PetsFunction", Method: "GET", Path: "/pets/{id}"},
		}},
		Invoke: func(_ context.Context, function string, payload []byte) (*lambdaemu.Result, error) {
			var ev events.APIGatewayV2HTTPRequest
			if err := json.Unmarshal(payload, &ev); err != nil {
				return nil, err
			}
			body := fmt.Sprintf("%s got %s with id %s", function, ev.RouteKey, ev.PathParameters["id"])
			out, err := json.Marshal(events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: body,
				Headers: map[string]string{"content-type": "text/plain"}})
			return &lambdaemu.Result{Payload: out}, err
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, path := range []string{"/pets/7", "/owners/7"} {
		w := httptest.NewRecorder()
		api.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		fmt.Println(w.Code, w.Body.String())
	}
	// Output:
	// 200 PetsFunction got GET /pets/{id} with id 7
	// 404 {"message":"Not Found"}
}
