package redis

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
)

// A live session is one field of its stage's sessions hash (see the
// package doc): the field is the user id, the value a packed record, so a
// viewer costs one hash entry instead of a key of its own with the stage
// ARN in its name. The record is
//
//	head, field(id), field(pid), field(joined), agent, ip
//
// where head is the version (1) in its low four bits plus flags: 16 when
// ip is an IPv4 address in dotted decimal (no leading zeros), kept in 4
// bytes, else ip is field(ip). field(s) is one length byte and s when s is
// shorter than 255 bytes, else byte 255, four length bytes (big-endian)
// and s. joined is Unix milliseconds in 6 bytes (big-endian) when it lies
// in [0, 2^48), else decimal text never 6 bytes long (padded with a 0), so
// the length tells the two apart. agent is two bytes (big-endian) naming
// an interned user agent (1 to maxAgents), or two zero bytes and
// field(user agent) when the table is full or the
// user agent empty. The session id comes first so a script checks it by
// comparing a prefix of the record with the encoded id the caller passes.
//
// Scripts write records (luaRecord); Go reads them (parseRecord) and
// encodes the session id that scripts compare (packField). The two are
// held together by the contract suite and TestRecordEncoding.

// recordVersion is the low four bits of every record's first byte, so a
// later layout can tell its own records from these; recordIPv4 is the flag
// of a record whose ip is 4 bytes.
const (
	recordVersion = 1
	recordIPv4    = 16
)

// maxAgents bounds the interned user agents, as in the memory twin: a
// flood of distinct ones is stored inline, costing what it did before
// interning, and the table never grows past it.
const maxAgents = 4096

// luaRecord is the Lua side of the record format, shared by every script
// through luaPrelude. record(arn, user) also reads a session hash of the
// layout before packed records (session:<arn>:<user>) and converts it in
// place, so sessions written by an older version are never orphaned.
const luaRecord = `
local function recordskey(arn) return p .. 'stage:' .. arn .. ':sessions' end
local function oldkey(arn, user) return p .. 'session:' .. arn .. ':' .. user end
local agentskey, agentidskey = p .. 'agents', p .. 'agents:ids'

local function field(s)
  local n = #s
  if n < 255 then return string.char(n) .. s end
  return '\255' .. string.char(math.floor(n / 16777216) % 256, math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256) .. s
end

-- fieldend returns the index just after the field that starts at i.
local function fieldend(rec, i)
  local n = string.byte(rec, i)
  if n < 255 then return i + 1 + n end
  local a, b, c, d = string.byte(rec, i + 1, i + 4)
  return i + 5 + ((a * 256 + b) * 256 + c) * 256 + d
end

local function fieldtext(part)
  if string.byte(part, 1) < 255 then return string.sub(part, 2) end
  return string.sub(part, 6)
end

-- millis encodes joined, Unix ms in decimal (see the format above).
local function millis(s)
  local n = tonumber(s)
  if n and n >= 0 and n < 281474976710656 and n == math.floor(n) then
    local b = {}
    for k = 6, 1, -1 do
      b[k] = n % 256
      n = math.floor(n / 256)
    end
    return field(string.char(b[1], b[2], b[3], b[4], b[5], b[6]))
  end
  if #s == 6 then
    if string.sub(s, 1, 1) == '-' then s = '-0' .. string.sub(s, 2) else s = '0' .. s end
  end
  return field(s)
end

-- millistext decodes what millis encoded, as decimal text.
local function millistext(t)
  if #t ~= 6 then return t end
  local n = 0
  for k = 1, 6 do n = n * 256 + string.byte(t, k) end
  return string.format('%.0f', n)
end

-- agentref interns ua (up to 4096 distinct ones: maxAgents) and returns
-- its encoded reference.
local function agentref(ua)
  if ua ~= '' then
    local id = redis.call('HGET', agentskey, ua)
    if not id then
      local n = redis.call('HLEN', agentskey)
      if n < 4096 then
        id = n + 1
        redis.call('HSET', agentskey, ua, id)
        redis.call('HSET', agentidskey, id, ua)
      end
    end
    if id then
      id = tonumber(id)
      return string.char(math.floor(id / 256), id % 256)
    end
  end
  return '\0\0' .. field(ua)
end

local function agenttext(ref)
  local a, b = string.byte(ref, 1, 2)
  if a == 0 and b == 0 then return fieldtext(string.sub(ref, 3)) end
  return redis.call('HGET', agentidskey, a * 256 + b) or ''
end

-- ipfield encodes ip, returning it and its flag for the head byte.
local function ipfield(ip)
  local a, b, c, d = string.match(ip, '^(%d+)%.(%d+)%.(%d+)%.(%d+)$')
  if a then
    local o, ok = {tonumber(a), tonumber(b), tonumber(c), tonumber(d)}, true
    for k, t in ipairs({a, b, c, d}) do
      if o[k] > 255 or tostring(o[k]) ~= t then ok = false end
    end
    if ok then return string.char(o[1], o[2], o[3], o[4]), 16 end
  end
  return field(ip), 0
end

-- parts splits a record into its encoded parts: id, pid, joined, agent,
-- ip, and head, the first byte.
local function parts(rec)
  local pt, i = {head = string.byte(rec, 1)}, 2
  for k = 1, 3 do
    local j = fieldend(rec, i)
    pt[k] = string.sub(rec, i, j - 1)
    i = j
  end
  local j = i + 2
  if string.byte(rec, i) == 0 and string.byte(rec, i + 1) == 0 then j = fieldend(rec, i + 2) end
  pt[4] = string.sub(rec, i, j - 1)
  pt[5] = string.sub(rec, j)
  return pt
end

local function pack(pt) return string.char(pt.head) .. table.concat(pt) end

local function setip(pt, ip)
  local e, flag = ipfield(ip)
  pt[5], pt.head = e, 1 + flag
end

local function iptext(pt)
  if pt.head >= 16 then return string.format('%d.%d.%d.%d', string.byte(pt[5], 1, 4)) end
  return fieldtext(pt[5])
end

local function newrecord(id, pid, joined, ua, ip)
  local pt = {field(id), field(pid), millis(joined), agentref(ua)}
  setip(pt, ip)
  return pack(pt)
end

-- fields decodes a record: id, pid, joined, ua, ip.
local function fields(rec)
  local pt = parts(rec)
  return fieldtext(pt[1]), fieldtext(pt[2]), millistext(fieldtext(pt[3])), agenttext(pt[4]), iptext(pt)
end

-- hasid reports whether rec's session id is the one whose encoding is eid.
local function hasid(rec, eid) return string.sub(rec, 2, 1 + #eid) == eid end

-- record returns user's packed record on arn, or false, converting a
-- session hash of the older layout on first touch (converted is true then).
local function record(arn, user)
  local rk = recordskey(arn)
  local rec = redis.call('HGET', rk, user)
  if rec then return rec, false end
  local ok = oldkey(arn, user)
  local h = redis.call('HMGET', ok, 'id', 'pid', 'joined', 'ua', 'ip')
  if not h[1] then return false, false end
  rec = newrecord(h[1], h[2] or '', h[3] or '', h[4] or '', h[5] or '')
  redis.call('HSET', rk, user, rec)
  redis.call('DEL', ok)
  return rec, true
end
`

// packField encodes s as the scripts' field(s) does.
func packField(s string) string {
	n := len(s)
	if n < 255 {
		return string([]byte{byte(n)}) + s
	}
	return string([]byte{255, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}) + s
}

// packedSession is a decoded record. The user agent is either inline
// (agent 0) or the interned one numbered agent.
type packedSession struct {
	id, pid, joined, ip string
	agent               int
	ua                  string
}

var errShortRecord = errors.New("record cut short")

// parseRecord decodes a record written by the scripts.
func parseRecord(rec string) (packedSession, error) {
	var s packedSession
	if len(rec) == 0 || rec[0]&0x0f != recordVersion {
		return s, fmt.Errorf("record version %q, want %d", rec[:min(1, len(rec))], recordVersion)
	}
	head, rest := rec[0], rec[1:]
	var err error
	for _, f := range []*string{&s.id, &s.pid, &s.joined} {
		if *f, rest, err = cutField(rest); err != nil {
			return s, err
		}
	}
	if j := s.joined; len(j) == 6 {
		s.joined = strconv.FormatInt(int64(j[0])<<40|int64(j[1])<<32|int64(j[2])<<24|int64(j[3])<<16|int64(j[4])<<8|int64(j[5]), 10)
	}
	if len(rest) < 2 {
		return s, errShortRecord
	}
	s.agent, rest = int(rest[0])<<8|int(rest[1]), rest[2:]
	if s.agent == 0 {
		if s.ua, rest, err = cutField(rest); err != nil {
			return s, err
		}
	}
	if head&recordIPv4 != 0 {
		if len(rest) != 4 {
			return s, fmt.Errorf("IPv4 of %d bytes", len(rest))
		}
		s.ip, rest = netip.AddrFrom4([4]byte([]byte(rest))).String(), ""
	} else if s.ip, rest, err = cutField(rest); err != nil {
		return s, err
	}
	if rest != "" {
		return s, fmt.Errorf("%d bytes after the record", len(rest))
	}
	return s, nil
}

// cutField decodes the field at the start of b and returns it and the rest.
func cutField(b string) (string, string, error) {
	if len(b) == 0 {
		return "", "", errShortRecord
	}
	n, head := int(b[0]), 1
	if n == 255 {
		if len(b) < 5 {
			return "", "", errShortRecord
		}
		n, head = int(b[1])<<24|int(b[2])<<16|int(b[3])<<8|int(b[4]), 5
	}
	if len(b) < head+n {
		return "", "", errShortRecord
	}
	return b[head : head+n], b[head+n:], nil
}
