package app

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Backend is the IVS backend: "aws" or "emulator".
func (c Config) Backend() string {
	if c.IVSBackend != "" {
		return c.IVSBackend
	}
	if c.MasterStageARN != "" {
		return "aws"
	}
	return "emulator"
}

// PresenceMode is "redis" when Redis is configured, "memory" otherwise.
func (c Config) PresenceMode() string {
	if c.RedisURL != "" || c.RedisHost != "" {
		return "redis"
	}
	return "memory"
}

// HistoryMode is "postgres" when PostgreSQL is configured, "sqlite" otherwise.
func (c Config) HistoryMode() string {
	if c.DatabaseURL != "" || c.DBHost != "" {
		return "postgres"
	}
	return "sqlite"
}

// TokenMode is "key-pair" when tokens are signed locally, "api" when each one
// is a CreateParticipantToken call.
func (c Config) TokenMode() string {
	if c.Backend() == "emulator" || c.IVSPrivateKey != "" || c.IVSPrivateKeyFile != "" {
		return "key-pair"
	}
	return "api"
}

// CloudWatch reports whether metrics go to CloudWatch: as configured, else
// in production against AWS.
func (c Config) CloudWatch() bool {
	if c.CloudWatchEnabled != "" {
		return c.CloudWatchEnabled == "true"
	}
	return c.Production() && c.Backend() == "aws"
}

// RedisAddress returns the Redis URL, built from REDIS_HOST and friends
// when REDIS_URL is unset.
func (c Config) RedisAddress() string {
	if c.RedisURL != "" {
		return c.RedisURL
	}
	scheme := "redis"
	if c.RedisTLS {
		scheme = "rediss"
	}
	u := url.URL{Scheme: scheme, Host: c.RedisHost + ":" + strconv.Itoa(c.RedisPort), Path: "/" + strconv.Itoa(c.RedisDB)}
	if c.RedisPassword != "" {
		u.User = url.UserPassword("", c.RedisPassword)
	}
	return u.String()
}

// PostgresAddress returns the PostgreSQL URL, built from DB_HOST and friends
// when DATABASE_URL is unset.
func (c Config) PostgresAddress() string {
	if c.DatabaseURL != "" {
		return c.DatabaseURL
	}
	u := url.URL{Scheme: "postgres", Host: c.DBHost + ":" + strconv.Itoa(c.DBPort), Path: "/" + c.DBName}
	if c.DBPassword != "" {
		u.User = url.UserPassword(c.DBUser, c.DBPassword)
	} else {
		u.User = url.User(c.DBUser)
	}
	q := url.Values{}
	if c.DBSSL {
		q.Set("sslmode", "require")
	} else {
		q.Set("sslmode", "disable")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// Modes is the one startup line that says what each part runs on.
func (c Config) Modes() string {
	return fmt.Sprintf("ivs=%s presence=%s history=%s tokens=%s", c.Backend(), c.PresenceMode(), c.HistoryMode(), c.TokenMode())
}

// Redacted returns NAME=value lines of the effective configuration with
// secrets hidden (passwords inside URLs too).
func (c Config) Redacted() []string {
	var lines []string
	for _, f := range c.fields() {
		v := fmt.Sprint(f.value.Interface())
		if s, ok := f.value.Interface().([]string); ok {
			v = strings.Join(s, ",")
		}
		switch {
		case f.Secret == "true" && v != "":
			v = "<redacted>"
		case f.Secret == "url" && v != "":
			v = redactDSN(v)
		}
		lines = append(lines, f.Env+"="+v)
	}
	return lines
}
