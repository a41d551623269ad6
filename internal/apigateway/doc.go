// Package apigateway owns the HTTP fronts of `aiflow stack`: an Amazon
// API Gateway HTTP API (HTTPAPI) and a Lambda function URL (FunctionURL),
// each an http.Handler that turns requests into payload format 2.0 events
// for the stack's functions and their responses back into HTTP, and a
// local OpenID Connect issuer (Issuer) whose tokens the HTTP API's JWT
// authorizer accepts. Functions are invoked through an InvokeFunc, so
// the package knows nothing of how they run (the stack passes its
// lambdaemu pools).
//
// What HTTPAPI does, as API Gateway documents it for HTTP APIs:
//
//   - Routes: the most specific route takes a request. A full match
//     (literal segments and {variables}) beats a match with a greedy
//     {proxy+} variable, which beats $default; between routes of one
//     kind the first segment where they differ decides (text beats a
//     variable), then a method beats ANY. {proxy+} matches one segment or
//     more. No route: 404 {"message":"Not Found"}.
//   - Events: version 2.0, routeKey, rawPath, rawQueryString, cookies (the
//     Cookie headers split), headers (lowercased, duplicates
//     comma-joined, with x-forwarded-for/-port/-proto and
//     x-amzn-trace-id), queryStringParameters (decoded, duplicates
//     comma-joined), pathParameters, requestContext (accountId, apiId,
//     domainName, domainPrefix, http, requestId, routeKey, stage
//     $default, time, timeEpoch, authorizer.jwt), body and
//     isBase64Encoded: bodies of text/*, application/json,
//     application/xml and application/javascript travel as text, every
//     other body base64-encoded (form posts and bodies without a
//     Content-Type too), as measured on AWS.
//   - Responses: an object with statusCode is the response (headers,
//     cookies as Set-Cookie, body, base64-decoded when isBase64Encoded);
//     any other JSON is a 200 application/json response whose body is the
//     payload. A function error, a failed invocation or a payload that is
//     not a response: 500 {"message":"Internal Server Error"}. Past the
//     route's integration timeout (TimeoutInMillis, 30 s by default):
//     503 {"message":"Service Unavailable"}. Every answer carries
//     apigw-requestid.
//   - JWT authorizers: the token from the identity source (a header, with
//     or without "Bearer ", or a query parameter), the issuer's keys read
//     from the jwks_uri of {issuer}/.well-known/openid-configuration and
//     cached for two hours (an unknown kid fetches them again, at most
//     once per JWKSMinRefetch), RS256 only, iss equal to the issuer, aud
//     (or client_id when there is no aud) one of the audience, exp
//     required and nbf and iat checked without leeway, and one of the
//     route's AuthorizationScopes in scope or scp. Refused: 401
//     {"message":"Unauthorized"} with www-authenticate: Bearer
//     scope="..." error="invalid_token" error_description="..." (plain
//     Bearer for no token), or 403 {"message":"Forbidden"} with
//     error="insufficient_scope". The claims reach the function in
//     requestContext.authorizer.jwt.claims, every value a string: arrays
//     as "[a b c]", which auth.PrincipalFromClaims reads roles from, and
//     numbers as written; requestContext.authorizer.jwt.scopes holds the
//     token's scopes on routes that require scopes.
//   - CORS, when configured: preflight requests (OPTIONS with Origin and
//     Access-Control-Request-Method) are answered 204 by the gateway,
//     with the allow headers when the origin is allowed, whatever the
//     routes; other responses get Access-Control-Allow-Origin, -Expose-
//     Headers and -Allow-Credentials, replacing the function's.
//   - Throttling: the default route settings' rate and burst, one token
//     bucket for the API; over it, 429 {"message":"Too Many Requests"}.
//     A rate of 0 means no throttling.
//
// What it does not do: payload format 1.0, Lambda and IAM authorizers,
// mutual TLS, custom domains and API mappings, stages other than
// $default, stage variables, per-route throttling, access logs, and the
// account-level quotas. An issuer's signing keys that cannot be fetched
// answer 401 (and are logged). Objects inside claims are rendered as
// map[key:value], by analogy with the arrays: AWS does not document it.
//
// FunctionURL serves a function URL with AuthType NONE and InvokeMode
// BUFFERED (AWS_IAM and RESPONSE_STREAM are refused when it is made): the
// same 2.0 event with routeKey $default and requestContext.accountId
// "anonymous", the same response rules, and a function error, failed
// invocation or unreadable response answered 502 with the text
// "Internal Server Error". Its CORS settings are not applied.
package apigateway
