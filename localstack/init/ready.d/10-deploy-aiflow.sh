#!/bin/bash
# LocalStack runs this hook once it is ready (/etc/localstack/init/ready.d):
# it deploys aiflow's template.yaml, as `sam build` left it in
# .aws-sam/build of the repository (mounted at /opt/aiflow/src), with parameter overrides
# for what LocalStack lacks. Its settings come from the compose file's
# AIFLOW_* variables; see ../../README.md. LocalStack's
# /_localstack/init/ready endpoint says whether it succeeded.
set -euo pipefail

stack=${AIFLOW_STACK_NAME:-aiflow}
src=${AIFLOW_SOURCE_DIR:-/opt/aiflow/src}
build="$src/.aws-sam/build"
providers=${AIFLOW_AI_PROVIDERS:-scripted}
db_host=${AIFLOW_DATABASE_HOST:-postgres}
db_name=${AIFLOW_DATABASE_NAME:-aiflow}
db_user=${AIFLOW_DATABASE_USER:-aiflow}
db_password=${AIFLOW_DATABASE_PASSWORD:-aiflow-localstack}
issuer=${AIFLOW_JWT_ISSUER:-https://issuer.aiflow.localstack}
audience=${AIFLOW_JWT_AUDIENCE:-aiflow}

log() { echo "aiflow: $*"; }

if [[ ! -f "$build/template.yaml" ]]; then
  log "$build/template.yaml is missing: run sam build in the repository's root before starting LocalStack" >&2
  exit 1
fi

# The repository is mounted read-only; the package step works on a copy of
# the build, which also carries the scripted provider's script inside the ai
# step function, beside links to the rest of the repository (the built
# template's DefinitionUri paths lead back to statemachines/).
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for entry in "$src"/*; do
  ln -s "$entry" "$work/"
done
mkdir -p "$work/.aws-sam"
cp -R "$build" "$work/.aws-sam/build"
template="$work/.aws-sam/build/template.yaml"
scripted=false
if [[ ",$providers," == *",scripted,"* ]]; then
  scripted=true
  cp "$src/examples/scripts/scripted.yaml" "$work/.aws-sam/build/AiStepFunction/scripted.yaml"
fi

# Aurora's stand-in is the compose file's PostgreSQL: its credentials go in
# a secret shaped as the template's ExistingDatabaseSecretArn expects.
secret_name="$stack/database"
secret_value=$(printf '{"username":"%s","password":"%s"}' "$db_user" "$db_password")
if secret_arn=$(awslocal secretsmanager describe-secret --secret-id "$secret_name" --query ARN --output text 2>/dev/null); then
  awslocal secretsmanager put-secret-value --secret-id "$secret_name" --secret-string "$secret_value" >/dev/null
else
  secret_arn=$(awslocal secretsmanager create-secret --name "$secret_name" --secret-string "$secret_value" --query ARN --output text)
fi

# LocalStack's default VPC and two of its subnets: the functions' VpcConfig
# is accepted and has no effect (they run on the compose network).
vpc=$(awslocal ec2 describe-vpcs --filters Name=isDefault,Values=true --query 'Vpcs[0].VpcId' --output text)
subnets=$(awslocal ec2 describe-subnets --filters "Name=vpc-id,Values=$vpc" --query 'Subnets[0:2].SubnetId' --output text | tr '\t' ',')

bucket="$stack-artifacts"
awslocal s3api head-bucket --bucket "$bucket" >/dev/null 2>&1 || awslocal s3 mb "s3://$bucket" >/dev/null
log "packaging $build/template.yaml into s3://$bucket"
awslocal cloudformation package --template-file "$template" --s3-bucket "$bucket" \
  --output-template-file "$work/packaged.yaml" >/dev/null

# The overrides, one parameter of template.yaml a line (a test checks that
# each one is a parameter of the template):
#   ExistingDatabaseEndpoint/SecretArn: PostgreSQL instead of Aurora (no RDS);
#   VpcId/SubnetIds: LocalStack's default VPC;
#   JwtIssuer/JwtAudience: what smoke.sh's requests carry (the authorizer
#     is not deployed: the API function checks the claims again);
#   AiProviders/AiDefaultProvider: the scripted provider unless told otherwise;
#   DeployExamples=false: the examples are published through the API.
default_provider=${providers%%,*}
overrides=(
  "Stage=dev"
  "ExistingDatabaseEndpoint=$db_host"
  "ExistingDatabaseSecretArn=$secret_arn"
  "DatabaseName=$db_name"
  "VpcId=$vpc"
  "SubnetIds=$subnets"
  "JwtIssuer=$issuer"
  "JwtAudience=$audience"
  "AiProviders=$providers"
  "AiDefaultProvider=$default_provider"
  "DeployExamples=false"
)
log "deploying stack $stack"
awslocal cloudformation deploy --stack-name "$stack" --template-file "$work/packaged.yaml" \
  --capabilities CAPABILITY_IAM CAPABILITY_NAMED_IAM CAPABILITY_AUTO_EXPAND \
  --no-fail-on-empty-changeset --parameter-overrides "${overrides[@]}"

# The template has no parameter for the scripted provider's script: add
# AIFLOW_AI_SCRIPT to the ai step function's environment.
if [[ "$scripted" == true ]]; then
  fn="$stack-aistep"
  vars=$(awslocal lambda get-function-configuration --function-name "$fn" --query 'Environment.Variables' --output json)
  env=$(python3 -c 'import json, sys
v = json.loads(sys.argv[1]) or {}
v["AIFLOW_AI_SCRIPT"] = "/var/task/scripted.yaml"
print(json.dumps({"Variables": v}))' "$vars")
  awslocal lambda update-function-configuration --function-name "$fn" --environment "$env" >/dev/null
  awslocal lambda wait function-updated --function-name "$fn"
fi

log "stack $stack is deployed"
awslocal cloudformation describe-stacks --stack-name "$stack" --query 'Stacks[0].Outputs' --output table
