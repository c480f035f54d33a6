package identity

import (
	"crypto/sha256"
	"slices"
	"sync"
	"time"

	"github.com/reciproca/reciproca/internal/auth"
)

// verifiedTokens remembers the access tokens this server has verified,
// until they expire: checking an Ed25519 signature costs about a tenth of
// an API request's CPU, and a client sends the same token with every
// request for the token's lifetime (ACCESS_TOKEN_TTL). What a token says
// never changes, so its signature and claims need checking once; whether
// its sign-in still holds is the revocation check's, on every request.
// Tokens are kept by their SHA-256, so the cache holds no usable token.
type verifiedTokens struct {
	mu sync.Mutex
	m  map[[sha256.Size]byte]verifiedToken
}

type verifiedToken struct {
	p     auth.Principal
	epoch int
	exp   time.Time
}

// maxVerifiedTokens bounds the cache; past it, expired tokens are dropped,
// and if that is not enough, all of them.
const maxVerifiedTokens = 100_000

func newVerifiedTokens() *verifiedTokens {
	return &verifiedTokens{m: map[[sha256.Size]byte]verifiedToken{}}
}

// verify returns what tc.verify does for token, from the cache when the
// token was verified before and has not expired (exp plus Leeway, as
// verify allows).
func (c *verifiedTokens) verify(tc tokenConfig, token string, now time.Time) (*auth.Principal, int, error) {
	sum := sha256.Sum256([]byte(token))
	c.mu.Lock()
	v, ok := c.m[sum]
	c.mu.Unlock()
	if ok && !now.After(v.exp.Add(Leeway)) {
		p := v.p
		p.Roles = slices.Clone(p.Roles)
		return &p, v.epoch, nil
	}
	p, epoch, exp, err := tc.verifyUntil(token, now)
	if err != nil {
		return nil, 0, err
	}
	v = verifiedToken{p: *p, epoch: epoch, exp: exp}
	v.p.Roles = slices.Clone(p.Roles)
	c.mu.Lock()
	if len(c.m) >= maxVerifiedTokens {
		for k, old := range c.m {
			if now.After(old.exp.Add(Leeway)) {
				delete(c.m, k)
			}
		}
		if len(c.m) >= maxVerifiedTokens {
			clear(c.m)
		}
	}
	c.m[sum] = v
	c.mu.Unlock()
	return p, epoch, nil
}
