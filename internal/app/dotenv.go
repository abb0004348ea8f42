package app

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"
)

// ReadDotenv parses a .env file: KEY=VALUE lines, optional "export ",
// single- or double-quoted values, and comments — whole lines starting with
// "#" and, for unquoted values, " #" to the end of the line (the Node server's
// .env.example writes PUBLISHER_TOKEN_DURATION=14400  # 4 小時). A missing file
// is not an error.
func ReadDotenv(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	vals := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		key, val, ok := strings.Cut(line, "=")
		key = strings.TrimSpace(key)
		if !ok || key == "" {
			return nil, fmt.Errorf("%s:%d: want KEY=VALUE", path, n)
		}
		val = strings.TrimSpace(val)
		switch {
		case len(val) >= 2 && (val[0] == '"' || val[0] == '\''):
			end := strings.IndexByte(val[1:], val[0])
			if end < 0 {
				return nil, fmt.Errorf("%s:%d: unterminated quote", path, n)
			}
			val = val[1 : end+1]
		default:
			if i := strings.Index(val, " #"); i >= 0 {
				val = val[:i]
			} else if i := strings.Index(val, "\t#"); i >= 0 {
				val = val[:i]
			}
			val = strings.TrimSpace(val)
		}
		vals[key] = val
	}
	return vals, sc.Err()
}
