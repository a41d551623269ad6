package stack

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/aiflow/aiflow/internal/atomicfile"
)

// customResourcesFile keeps, in DataDir, each custom resource's physical id
// and the properties it was last created or updated with: CloudFormation's
// memory of the stack.
const customResourcesFile = "custom-resources.json"

// customState is what the stack remembers of a custom resource.
type customState struct {
	PhysicalResourceID string         `json:"physicalResourceId"`
	Properties         map[string]any `json:"properties"`
}

// customRequest is the event CloudFormation sends a custom resource's
// function.
type customRequest struct {
	RequestType           string         `json:"RequestType"`
	ResponseURL           string         `json:"ResponseURL"`
	StackID               string         `json:"StackId"`
	RequestID             string         `json:"RequestId"`
	ResourceType          string         `json:"ResourceType"`
	LogicalResourceID     string         `json:"LogicalResourceId"`
	PhysicalResourceID    string         `json:"PhysicalResourceId,omitempty"`
	ServiceToken          string         `json:"ServiceToken"`
	ResourceProperties    map[string]any `json:"ResourceProperties"`
	OldResourceProperties map[string]any `json:"OldResourceProperties,omitempty"`
}

// customResponse is what the function sends to ResponseURL.
type customResponse struct {
	Status             string         `json:"Status"`
	Reason             string         `json:"Reason"`
	PhysicalResourceID string         `json:"PhysicalResourceId"`
	StackID            string         `json:"StackId"`
	RequestID          string         `json:"RequestId"`
	LogicalResourceID  string         `json:"LogicalResourceId"`
	NoEcho             bool           `json:"NoEcho"`
	Data               map[string]any `json:"Data"`
}

// runCustomResources sends each custom resource whose ServiceToken is one
// of the stack's functions a Create event the first time, and an Update
// event when its properties changed since, as CloudFormation does on a
// deploy, and waits for the answer the function PUTs to the response URL.
// A FAILED answer, or none, stops the start with the function's reason.
// Custom resources run in the order of their logical ids.
func (s *Stack) runCustomResources(ctx context.Context) error {
	var ids []string
	for id, r := range s.model.Resources {
		if r.Type == "AWS::CloudFormation::CustomResource" || strings.HasPrefix(r.Type, "Custom::") {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	slices.Sort(ids)
	statePath := filepath.Join(s.p.DataDir, customResourcesFile)
	state := map[string]customState{}
	if raw, err := os.ReadFile(statePath); err == nil {
		if err := json.Unmarshal(raw, &state); err != nil {
			return fmt.Errorf("reading %s: %w (delete it to run every custom resource again)", statePath, err)
		}
	} else if !os.IsNotExist(err) {
		return fmt.Errorf("reading %s: %w", statePath, err)
	}

	responses := &customResponses{waiting: map[string]chan customResponse{}}
	ln, err := s.listen("")
	if err != nil {
		return fmt.Errorf("listening for custom resources' responses: %w", err)
	}
	s.serve(ln, responses)

	stackID := fmt.Sprintf("arn:aws:cloudformation:%s:%s:stack/%s/%s", s.p.Region, s.p.AccountID, s.p.StackName,
		uuid.NewSHA1(uuid.NameSpaceURL, []byte(s.p.StackName)).String())
	for _, id := range ids {
		r := s.model.Resources[id]
		props := stringProperties(r.Properties)
		token, _ := props["ServiceToken"].(string)
		fn := s.functionByARN(token)
		if fn == nil {
			return resourceErr(id, "Properties.ServiceToken", "%q is not the ARN of one of the stack's functions (the stack runs custom resources backed by its own functions only)", token)
		}
		old, seen := state[id]
		if seen && reflect.DeepEqual(old.Properties, props) {
			continue
		}
		req := customRequest{
			RequestType: "Create", StackID: stackID, RequestID: uuid.NewString(),
			ResourceType: r.Type, LogicalResourceID: id, ServiceToken: token, ResourceProperties: props,
		}
		if seen {
			req.RequestType, req.PhysicalResourceID, req.OldResourceProperties = "Update", old.PhysicalResourceID, old.Properties
		}
		req.ResponseURL = httpURL(ln) + "/" + req.RequestID + "?X-Amz-Signature=" + randomToken()
		s.progress("custom resources: %s %s (%s) through %s", strings.ToLower(req.RequestType[:1])+req.RequestType[1:]+"ing", id, r.Type, fn.model.LogicalID)
		resp, err := s.sendCustom(ctx, fn, req, responses)
		if err != nil {
			return resourceErr(id, "", "%w", err)
		}
		if resp.Status != "SUCCESS" {
			return resourceErr(id, "", "%s answered %s: %s", fn.model.LogicalID, resp.Status, resp.Reason)
		}
		state[id] = customState{PhysicalResourceID: resp.PhysicalResourceID, Properties: props}
		raw, _ := json.MarshalIndent(state, "", "  ")
		if err := atomicfile.WriteFile(statePath, raw, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// sendCustom invokes fn with req and returns the response it PUT.
func (s *Stack) sendCustom(ctx context.Context, fn *function, req customRequest, responses *customResponses) (customResponse, error) {
	ch := responses.expect(req.RequestID)
	defer responses.forget(req.RequestID)
	payload, err := json.Marshal(req)
	if err != nil {
		return customResponse{}, err
	}
	res, err := fn.call(ctx, payload)
	if err != nil {
		return customResponse{}, fmt.Errorf("invoking %s: %w", fn.model.LogicalID, err)
	}
	// The function answers through the response URL before it returns;
	// a short grace covers a response still on its way.
	select {
	case resp := <-ch:
		return resp, nil
	case <-time.After(5 * time.Second):
	case <-ctx.Done():
		return customResponse{}, ctx.Err()
	}
	if res.FunctionError != nil {
		return customResponse{}, fmt.Errorf("%s failed without answering CloudFormation: %s", fn.model.LogicalID, res.FunctionError)
	}
	return customResponse{}, fmt.Errorf("%s returned without answering CloudFormation at the response URL", fn.model.LogicalID)
}

func (s *Stack) functionByARN(arn string) *function {
	for _, f := range s.functions.byID {
		if f.model.ARN == arn {
			return f
		}
	}
	return nil
}

// customResponses receives the PUTs of custom resources' functions.
type customResponses struct {
	mu      sync.Mutex
	waiting map[string]chan customResponse
}

func (c *customResponses) expect(requestID string) <-chan customResponse {
	ch := make(chan customResponse, 1)
	c.mu.Lock()
	c.waiting[requestID] = ch
	c.mu.Unlock()
	return ch
}

func (c *customResponses) forget(requestID string) {
	c.mu.Lock()
	delete(c.waiting, requestID)
	c.mu.Unlock()
}

// ServeHTTP takes a response as S3 takes the PUT to a presigned URL.
func (c *customResponses) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPut {
		http.Error(w, "PUT the response", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<10+1))
	if err != nil || len(body) > 4<<10 {
		// CloudFormation limits a response to 4,096 bytes.
		http.Error(w, "the response is over 4096 bytes", http.StatusBadRequest)
		return
	}
	var resp customResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		http.Error(w, "the response is not JSON", http.StatusBadRequest)
		return
	}
	id := strings.TrimPrefix(r.URL.Path, "/")
	c.mu.Lock()
	ch, ok := c.waiting[id]
	c.mu.Unlock()
	if !ok || resp.RequestID != id {
		http.Error(w, "no request waits for this response", http.StatusNotFound)
		return
	}
	select {
	case ch <- resp:
	default: // a second answer is ignored, as CloudFormation ignores it
	}
	w.WriteHeader(http.StatusOK)
}

// stringProperties renders a custom resource's properties as
// CloudFormation sends them: every scalar as a string.
func stringProperties(props map[string]any) map[string]any {
	var conv func(v any) any
	conv = func(v any) any {
		switch v := v.(type) {
		case map[string]any:
			out := make(map[string]any, len(v))
			for k, e := range v {
				out[k] = conv(e)
			}
			return out
		case []any:
			out := make([]any, len(v))
			for i, e := range v {
				out[i] = conv(e)
			}
			return out
		case string:
			return v
		case bool:
			return strconv.FormatBool(v)
		case int:
			return strconv.Itoa(v)
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64)
		case nil:
			return nil
		default:
			return fmt.Sprint(v)
		}
	}
	out := make(map[string]any, len(props))
	maps.Copy(out, conv(props).(map[string]any))
	return out
}

func randomToken() string {
	return rand.Text()
}
