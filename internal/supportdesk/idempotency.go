package supportdesk

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// MaxIdempotencyKeyLength is the longest idempotency key the desk takes,
// in bytes.
const MaxIdempotencyKeyLength = 255

// keyedChange is a change that an idempotency key may make once: the
// tool's name, the caller's key (empty: no key) and the request, whose
// hash tells a repeated request from another one under the same key.
type keyedChange struct {
	tool    string
	key     string
	request any
}

// once runs f in a transaction, as inTx does, once per caller and key. The
// key is claimed in f's transaction, and the result (*out, encoded as
// JSON) kept with it when f succeeds, so that
//
//   - a call that repeats a key whose change committed is answered with
//     the first result, decoded into out, and changes nothing;
//   - a call that repeats a key while the first is still running waits for
//     it (the claim's row is locked until its transaction ends), then is
//     answered as above, or runs when the first failed;
//   - a failed change (a refusal, a database error) leaves no claim, so
//     the key may be tried again;
//   - a key reused for another tool or other arguments is refused (an
//     *Error of KindRefused) rather than answered with another request's
//     result.
//
// Keys are the caller's own: two callers' equal keys are two keys.
func (d *Desk) once(ctx context.Context, c Caller, k keyedChange, out any, f func(pgx.Tx) error) error {
	if k.key == "" {
		return d.inTx(ctx, f)
	}
	if err := checkIdempotencyKey(k.key); err != nil {
		return err
	}
	req, err := json.Marshal(k.request)
	if err != nil {
		return fmt.Errorf("encoding the request of %s for its idempotency key: %w", k.tool, err)
	}
	sum := sha256.Sum256(append([]byte(k.tool+"\x00"), req...))
	hash := hex.EncodeToString(sum[:])
	return d.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
INSERT INTO support.idempotency_keys (actor, key, tool, request_hash, result, created_at)
VALUES ($1, $2, $3, $4, 'null', $5)
ON CONFLICT (actor, key) DO NOTHING`, c.Subject, k.key, k.tool, hash, d.clock())
		if err != nil {
			return fmt.Errorf("claiming idempotency key %q of %s: %w", k.key, k.tool, err)
		}
		if tag.RowsAffected() == 0 {
			return replay(ctx, tx, c, k, hash, out)
		}
		if err := f(tx); err != nil {
			return err
		}
		result, err := json.Marshal(out)
		if err != nil {
			return fmt.Errorf("encoding the result of %s for its idempotency key: %w", k.tool, err)
		}
		if _, err := tx.Exec(ctx, `UPDATE support.idempotency_keys SET result = $3 WHERE actor = $1 AND key = $2`, c.Subject, k.key, result); err != nil {
			return fmt.Errorf("keeping the result of %s under idempotency key %q: %w", k.tool, k.key, err)
		}
		return nil
	})
}

// replay decodes into out the result kept under a key that committed.
func replay(ctx context.Context, tx pgx.Tx, c Caller, k keyedChange, hash string, out any) error {
	var tool, prevHash string
	var result []byte
	err := tx.QueryRow(ctx, `SELECT tool, request_hash, result FROM support.idempotency_keys WHERE actor = $1 AND key = $2`, c.Subject, k.key).
		Scan(&tool, &prevHash, &result)
	if err != nil {
		return fmt.Errorf("reading idempotency key %q of %s: %w", k.key, k.tool, err)
	}
	if tool != k.tool || prevHash != hash {
		return refused("idempotency key %q was already used for another request (%s with other arguments); send a new key for a new request", k.key, tool)
	}
	if err := json.Unmarshal(result, out); err != nil {
		return fmt.Errorf("decoding the result kept under idempotency key %q of %s: %w", k.key, k.tool, err)
	}
	return nil
}

// checkIdempotencyKey refuses a key that is too long or not printable
// text.
func checkIdempotencyKey(key string) error {
	if len(key) > MaxIdempotencyKeyLength {
		return invalid("the idempotency key has %d bytes; at most %d are allowed", len(key), MaxIdempotencyKeyLength)
	}
	if !utf8.ValidString(key) {
		return invalid("the idempotency key is not valid UTF-8")
	}
	for _, r := range key {
		if !unicode.IsPrint(r) {
			return invalid("the idempotency key holds the unprintable character %U", r)
		}
	}
	return nil
}

// keyed is a tool's parameters that take an idempotency key (from the
// call's _meta, see NewServer).
type keyed interface{ setIdempotencyKey(key string) }

func (p *CreateTicketParams) setIdempotencyKey(key string)   { p.IdempotencyKey = key }
func (p *UpdateTicketParams) setIdempotencyKey(key string)   { p.IdempotencyKey = key }
func (p *EscalateTicketParams) setIdempotencyKey(key string) { p.IdempotencyKey = key }
func (p *IssueRefundParams) setIdempotencyKey(key string)    { p.IdempotencyKey = key }
