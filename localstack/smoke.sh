#!/usr/bin/env bash
# Smoke test of aiflow deployed on LocalStack (docker-compose.yml beside this
# script): waits for the ready hook's deploy (and migrates the database if
# the stack did not), then publishes examples/document-summary.yaml and runs
# it to SUCCEEDED through the deployed API function, as API Gateway's HTTP
# API would call it
# (payload format 2.0, the JWT authorizer's claims). It needs the AWS CLI,
# python3 and Go; see README.md.
set -euo pipefail
cd "$(dirname "$0")/.."

endpoint=${LOCALSTACK_ENDPOINT:-http://127.0.0.1:${LOCALSTACK_PORT:-4566}}
stack=${AIFLOW_STACK_NAME:-aiflow}
providers=${AIFLOW_AI_PROVIDERS:-scripted}
issuer=${AIFLOW_JWT_ISSUER:-https://issuer.aiflow.localstack}
audience=${AIFLOW_JWT_AUDIENCE:-aiflow}
timeout=${AIFLOW_SMOKE_TIMEOUT:-600}
database_url=${DATABASE_URL:-postgres://aiflow:${AIFLOW_DATABASE_PASSWORD:-aiflow-localstack}@127.0.0.1:${AIFLOW_PG_PORT:-55432}/aiflow?sslmode=require}
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-test} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-test}
export AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-us-east-1} AWS_PAGER=""

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
deadline=$((SECONDS + timeout))

log() { echo "smoke: $*"; }
fail() {
  echo "smoke: FAILED: $*" >&2
  exit 1
}

# 1. LocalStack is ready and its ready hook has deployed the stack.
log "waiting for LocalStack's ready hook at $endpoint"
until python3 - "$endpoint" <<'PY'
import json, sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1] + "/_localstack/init/ready", timeout=5) as r:
        state = json.load(r)
except OSError:
    sys.exit(1)
if not state.get("completed"):
    sys.exit(1)
failed = [s["name"] for s in state.get("scripts", []) if s.get("state") != "SUCCESSFUL"]
if failed:
    print("smoke: the ready hook failed: %s (docker compose logs localstack says why)" % ", ".join(failed), file=sys.stderr)
    sys.exit(2)
PY
do
  status=$?
  [[ $status -eq 2 ]] && exit 1
  ((SECONDS < deadline)) || fail "LocalStack's ready hook did not finish in ${timeout}s"
  sleep 3
done

# 2. The schema. A template with the DatabaseMigrations custom resource
# migrated its database while it deployed; for one without it, the stack's
# PostgreSQL is migrated from this machine.
if aws --endpoint-url "$endpoint" cloudformation describe-stack-resource --stack-name "$stack" \
  --logical-resource-id DatabaseMigrations >/dev/null 2>&1; then
  log "the stack migrated its database (DatabaseMigrations)"
else
  log "migrating the database from this machine"
  DATABASE_URL=$database_url go run ./cmd/aiflow migrate up
fi

# api METHOD PATH [BODY]: the API function's answer to one request, as the
# HTTP API passes it; prints the body and leaves the status in $tmp/status.
api() {
  python3 - "$1" "$2" "${3:-}" "$issuer" "$audience" >"$tmp/event.json" <<'PY'
import json, sys, time, uuid
method, target, body, issuer, audience = sys.argv[1:6]
path, _, query = target.partition("?")
now = time.time()
print(json.dumps({
    "version": "2.0",
    "routeKey": "ANY /{proxy+}",
    "rawPath": path,
    "rawQueryString": query,
    "headers": {"content-type": "application/json", "authorization": "Bearer smoke", "host": "localstack"},
    "requestContext": {
        "accountId": "000000000000",
        "apiId": "smoke",
        "domainName": "localstack",
        "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "smoke.sh"},
        "requestId": str(uuid.uuid4()),
        "routeKey": "ANY /{proxy+}",
        "stage": "$default",
        "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "timeEpoch": int(now * 1000),
        "authorizer": {"jwt": {"claims": {
            "sub": "smoke", "iss": issuer, "client_id": audience, "aud": audience,
            "token_use": "access", "cognito:groups": "[admin]",
            "iat": str(int(now)), "exp": str(int(now) + 3600),
        }, "scopes": None}},
    },
    "pathParameters": {"proxy": path.lstrip("/")},
    "body": body,
    "isBase64Encoded": False,
}))
PY
  aws --endpoint-url "$endpoint" --cli-read-timeout 300 lambda invoke --function-name "$stack-api" \
    --payload "fileb://$tmp/event.json" "$tmp/response.json" >"$tmp/invoke.json" ||
    fail "invoking $stack-api: $(cat "$tmp/invoke.json")"
  python3 - "$tmp/response.json" "$tmp/status" <<'PY'
import json, sys
resp = json.load(open(sys.argv[1]))
if "statusCode" not in resp:
    print("smoke: FAILED: the API function answered no HTTP response: " + json.dumps(resp), file=sys.stderr)
    sys.exit(1)
open(sys.argv[2], "w").write(str(resp["statusCode"]))
print(resp.get("body", ""))
PY
}

# field NAME: a member of the JSON object on stdin.
field() {
  python3 -c 'import json, sys; v = json.load(sys.stdin).get(sys.argv[1], ""); print(v if isinstance(v, str) else json.dumps(v))' "$1"
}

# 3. Publish document-summary. Without provider keys the scripted provider
# answers its models, which are renamed for it.
definition=$(python3 - "$providers" <<'PY'
import json, re, sys
text = open("examples/document-summary.yaml").read()
if "scripted" in sys.argv[1].split(","):
    text = re.sub(r"model: (anthropic|openai|bedrock)/", "model: scripted/", text)
print(json.dumps({"definition": text}))
PY
)
log "publishing document-summary"
out=$(api POST /v1/workflows "$definition")
[[ $(cat "$tmp/status") == 20[01] ]] || fail "publishing answered $(cat "$tmp/status"): $out"

# 4. Run it to its end.
input='{"input": {"title": "LocalStack smoke test", "chunks": [{"text": "aiflow compiles workflows to Step Functions state machines."}, {"text": "Each step runs in a Lambda function fed by an SQS queue."}]}}'
out=$(api POST /v1/workflows/document-summary/executions "$input")
[[ $(cat "$tmp/status") == 201 ]] || fail "starting answered $(cat "$tmp/status"): $out"
id=$(field id <<<"$out")
log "started execution $(field arn <<<"$out")"
while :; do
  out=$(api GET "/v1/executions/$id")
  [[ $(cat "$tmp/status") == 200 ]] || fail "reading the execution answered $(cat "$tmp/status"): $out"
  status=$(field status <<<"$out")
  case $status in
    SUCCEEDED) break ;;
    RUNNING | PENDING_REDRIVE) ;;
    *) fail "the execution ended $status: $out" ;;
  esac
  ((SECONDS < deadline)) || fail "the execution is still $status after ${timeout}s: $out"
  sleep 3
done
log "document-summary SUCCEEDED: $(field output <<<"$out")"
