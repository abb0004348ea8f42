package deploy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v4"
)

// No Docker engine or systemd runs where the tests run, so these checks read
// the deployment files the way those tools would and assert what a deployment
// relies on: that the services start in order, that state lands in volumes,
// that the image runs as non-root, and that the three files agree with each
// other and with the variables ivslive reads (.env.example).

// The compose keys this project uses. Decoding with KnownFields makes a
// misspelt key (depends_on, healthcheck, ...) an error instead of a setting
// Docker silently ignores.
type composeFile struct {
	Name     string                    `yaml:"name"`
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
	Secrets  map[string]any            `yaml:"secrets"`
}

type composeService struct {
	Image           string                      `yaml:"image"`
	Build           any                         `yaml:"build"`
	Command         []string                    `yaml:"command"`
	EnvFile         []composeEnvFile            `yaml:"env_file"`
	Environment     map[string]string           `yaml:"environment"`
	Ports           []string                    `yaml:"ports"`
	Volumes         []string                    `yaml:"volumes"`
	DependsOn       map[string]composeDependsOn `yaml:"depends_on"`
	Healthcheck     *composeHealthcheck         `yaml:"healthcheck"`
	Restart         string                      `yaml:"restart"`
	StopGracePeriod string                      `yaml:"stop_grace_period"`
	Secrets         []string                    `yaml:"secrets"`
	Profiles        []string                    `yaml:"profiles"`
}

type composeEnvFile struct {
	Path     string `yaml:"path"`
	Required *bool  `yaml:"required"`
}

type composeDependsOn struct {
	Condition string `yaml:"condition"`
}

type composeHealthcheck struct {
	Test        []string `yaml:"test"`
	Interval    string   `yaml:"interval"`
	Timeout     string   `yaml:"timeout"`
	Retries     int      `yaml:"retries"`
	StartPeriod string   `yaml:"start_period"`
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	raw := readFile(t, "../docker-compose.yml")
	// The obsolete top-level version key is checked on the raw mapping, as
	// the struct has no place for it.
	var top map[string]any
	if err := yaml.Unmarshal(raw, &top); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	if _, ok := top["version"]; ok {
		t.Error("docker-compose.yml has a top-level version key: obsolete in the Compose Specification")
	}
	var c composeFile
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return c
}

// envExampleNames lists the variables ivslive reads, from .env.example (which
// a test in cmd/ivslive generates from the Config struct).
func envExampleNames(t *testing.T) map[string]string {
	t.Helper()
	names := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(readFile(t, "../.env.example")))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok {
			names[k] = v
		}
	}
	return names
}

var interpolation = regexp.MustCompile(`\$\{([A-Z_][A-Z0-9_]*):-([^}]*)\}`)

// composeDefault expands ${NAME:-default} the way compose does when NAME is
// unset, which is what a fresh checkout without .env gets.
func composeDefault(s string) string { return interpolation.ReplaceAllString(s, "$2") }

func TestCompose(t *testing.T) {
	c := loadCompose(t)

	var names []string
	for name := range c.Services {
		names = append(names, name)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"ivs-emulator", "ivslive", "ivslive-2", "postgres", "redis"}) {
		t.Fatalf("services = %v, want ivslive, postgres and redis, and ivs-emulator and ivslive-2 (the cluster profile)", names)
	}
	for _, name := range names {
		want := []string(nil)
		if name == "ivs-emulator" || name == "ivslive-2" {
			want = []string{"cluster"}
		}
		if got := c.Services[name].Profiles; !slices.Equal(got, want) {
			// `docker compose up` without a profile is one embedded instance.
			t.Errorf("%s profiles = %v, want %v", name, got, want)
		}
	}
	pg, rd, app := c.Services["postgres"], c.Services["redis"], c.Services["ivslive"]

	// postgres: the Node server's database name, so ivslive can share it.
	if pg.Image != "postgres:15" {
		t.Errorf("postgres image = %q, want postgres:15", pg.Image)
	}
	if pg.Environment["POSTGRES_DB"] != "ivs_live" {
		t.Errorf("postgres POSTGRES_DB = %q, want ivs_live", pg.Environment["POSTGRES_DB"])
	}
	pgPassword := pg.Environment["POSTGRES_PASSWORD"]
	if !strings.HasPrefix(pgPassword, "${POSTGRES_PASSWORD") || composeDefault(pgPassword) == "" {
		t.Errorf("postgres POSTGRES_PASSWORD = %q, want ${POSTGRES_PASSWORD:-<local default>}", pgPassword)
	}
	checkHealthcheck(t, "postgres", pg, "pg_isready", "-U", "postgres", "-d", "ivs_live")
	checkVolume(t, "postgres", pg, "pgdata:/var/lib/postgresql/data")

	// redis: persistence on, because closed sessions wait in a Redis stream
	// until PostgreSQL has them.
	if rd.Image != "redis:7-alpine" {
		t.Errorf("redis image = %q, want redis:7-alpine", rd.Image)
	}
	if i := slices.Index(rd.Command, "--appendonly"); i < 0 || i+1 >= len(rd.Command) || rd.Command[i+1] != "yes" {
		t.Errorf("redis command = %q, want --appendonly yes", rd.Command)
	}
	checkHealthcheck(t, "redis", rd, "redis-cli", "ping")
	checkVolume(t, "redis", rd, "redisdata:/data")

	// ivslive
	if app.Build != "." {
		t.Errorf("ivslive build = %v, want . (the Dockerfile at the root)", app.Build)
	}
	if len(app.EnvFile) != 1 || app.EnvFile[0].Path != ".env" || app.EnvFile[0].Required == nil || *app.EnvFile[0].Required {
		t.Errorf("ivslive env_file = %+v, want .env with required: false (a fresh checkout has none)", app.EnvFile)
	}
	known := envExampleNames(t)
	for name := range app.Environment {
		if _, ok := known[name]; !ok {
			t.Errorf("ivslive environment sets %s, which ivslive does not read (not in .env.example)", name)
		}
	}
	dbURL := composeDefault(app.Environment["DATABASE_URL"])
	if want := "postgres://postgres:" + composeDefault(pgPassword) + "@postgres:5432/ivs_live?sslmode=disable"; dbURL != want {
		// The same password default on both sides, or a fresh start cannot log in.
		t.Errorf("ivslive DATABASE_URL (defaults applied) = %q, want %q", dbURL, want)
	}
	if got := app.Environment["REDIS_URL"]; got != "redis://redis:6379/0" {
		t.Errorf("ivslive REDIS_URL = %q, want redis://redis:6379/0", got)
	}
	dataDir := app.Environment["IVSLIVE_DATA_DIR"]
	if dataDir != "/data" {
		t.Errorf("ivslive IVSLIVE_DATA_DIR = %q, want /data", dataDir)
	}
	checkVolume(t, "ivslive", app, "ivslivedata:"+dataDir)
	if !slices.Contains(app.Ports, "3000:3000") {
		t.Errorf("ivslive ports = %v, want 3000:3000", app.Ports)
	}
	for _, dep := range []string{"postgres", "redis"} {
		d, ok := app.DependsOn[dep]
		if !ok || d.Condition != "service_healthy" {
			t.Errorf("ivslive depends_on %s = %+v, want condition service_healthy", dep, d)
		}
	}
	if app.Restart != "unless-stopped" {
		t.Errorf("ivslive restart = %q, want unless-stopped", app.Restart)
	}
	if d, err := time.ParseDuration(app.StopGracePeriod); err != nil || d < 20*time.Second {
		// ivslive drains requests for 15 s on SIGTERM before it stops its workers.
		t.Errorf("ivslive stop_grace_period = %q, want at least 20s", app.StopGracePeriod)
	}

	checkCluster(t, c)

	// Every condition: service_healthy needs a healthcheck to become true.
	for name, s := range c.Services {
		for dep, d := range s.DependsOn {
			if _, ok := c.Services[dep]; !ok {
				t.Errorf("%s depends on %s, which is not a service", name, dep)
			} else if d.Condition == "service_healthy" && c.Services[dep].Healthcheck == nil {
				t.Errorf("%s waits for %s to be healthy, but %s has no healthcheck", name, dep, dep)
			}
		}
	}

	// Named volumes: every one used is declared, every one declared is used.
	used := map[string]bool{}
	for name, s := range c.Services {
		for _, v := range s.Volumes {
			src, _, _ := strings.Cut(v, ":")
			if strings.HasPrefix(src, ".") || strings.HasPrefix(src, "/") {
				continue // a bind mount
			}
			used[src] = true
			if _, ok := c.Volumes[src]; !ok {
				t.Errorf("%s mounts volume %s, which is not declared under volumes", name, src)
			}
		}
	}
	for v := range c.Volumes {
		if !used[v] {
			t.Errorf("volume %s is declared but no service mounts it", v)
		}
	}
}

// checkCluster checks the cluster profile: a second instance that shares
// PostgreSQL, Redis and the standalone emulator with the first, with a
// volume and a port of its own, as the comments at the top tell .env to set
// up for the first.
func checkCluster(t *testing.T, c composeFile) {
	t.Helper()
	app, second, em := c.Services["ivslive"], c.Services["ivslive-2"], c.Services["ivs-emulator"]
	if em.Build != "." || len(em.Command) == 0 || em.Command[0] != "emulator" {
		t.Errorf("ivs-emulator build %v command %q, want the ivslive image running `emulator`", em.Build, em.Command)
	}
	flag := func(name string) string {
		if i := slices.Index(em.Command, name); i >= 0 && i+1 < len(em.Command) {
			return em.Command[i+1]
		}
		return ""
	}
	host, port, _ := strings.Cut(flag("--addr"), ":")
	if host != "0.0.0.0" || port == "" {
		t.Errorf("ivs-emulator --addr %q, want 0.0.0.0:<port> (the instances reach it over the compose network)", flag("--addr"))
	}
	if flag("--data") == "" || !slices.ContainsFunc(em.Volumes, func(v string) bool { return strings.HasSuffix(v, ":"+flag("--data")) }) {
		t.Errorf("ivs-emulator keeps its state in %q, which is not a volume (%v)", flag("--data"), em.Volumes)
	}
	endpoint := "http://ivs-emulator:" + port
	if got := second.Environment["IVS_ENDPOINT"]; got != endpoint {
		t.Errorf("ivslive-2 IVS_ENDPOINT = %q, want %q", got, endpoint)
	}
	if !strings.Contains(string(readFile(t, "../docker-compose.yml")), "#   IVS_ENDPOINT="+endpoint+" ") {
		t.Errorf("the comments do not tell .env to set IVS_ENDPOINT=%s for the first instance", endpoint)
	}
	if d, ok := second.DependsOn["ivs-emulator"]; !ok || d.Condition != "service_started" {
		t.Errorf("ivslive-2 depends_on ivs-emulator = %+v, want service_started", d)
	}
	for _, k := range []string{"DATABASE_URL", "REDIS_URL", "IVSLIVE_DATA_DIR"} {
		if second.Environment[k] != app.Environment[k] {
			t.Errorf("ivslive-2 %s = %q, ivslive %q: the instances share the stores", k, second.Environment[k], app.Environment[k])
		}
	}
	known := envExampleNames(t)
	for name := range second.Environment {
		if _, ok := known[name]; !ok {
			t.Errorf("ivslive-2 environment sets %s, which ivslive does not read", name)
		}
	}
	if len(second.EnvFile) != 1 || second.EnvFile[0].Path != ".env" {
		t.Errorf("ivslive-2 env_file = %+v, want .env like ivslive (one API_SECRET_KEY)", second.EnvFile)
	}
	if slices.Equal(second.Volumes, app.Volumes) || len(second.Volumes) != 1 || !strings.HasSuffix(second.Volumes[0], ":"+app.Environment["IVSLIVE_DATA_DIR"]) {
		t.Errorf("ivslive-2 volumes = %v, want a data volume of its own (ivslive has %v)", second.Volumes, app.Volumes)
	}
	if len(second.Ports) != 1 || slices.Contains(app.Ports, second.Ports[0]) {
		t.Errorf("ivslive-2 ports = %v, want one port besides ivslive's %v", second.Ports, app.Ports)
	}
	if second.Restart != app.Restart || second.StopGracePeriod != app.StopGracePeriod {
		t.Errorf("ivslive-2 restart %q and stop_grace_period %q differ from ivslive's", second.Restart, second.StopGracePeriod)
	}
}

func checkHealthcheck(t *testing.T, name string, s composeService, want ...string) {
	t.Helper()
	if s.Healthcheck == nil {
		t.Errorf("%s has no healthcheck", name)
		return
	}
	if len(s.Healthcheck.Test) < 2 || s.Healthcheck.Test[0] != "CMD" || !slices.Equal(s.Healthcheck.Test[1:], want) {
		t.Errorf("%s healthcheck test = %q, want [CMD %s]", name, s.Healthcheck.Test, strings.Join(want, " "))
	}
}

func checkVolume(t *testing.T, name string, s composeService, want string) {
	t.Helper()
	if !slices.Contains(s.Volumes, want) {
		t.Errorf("%s volumes = %v, want %s", name, s.Volumes, want)
	}
}

// TestComposeConfig lets Docker Compose itself validate the file where it is
// installed; the structural test above runs everywhere.
func TestComposeConfig(t *testing.T) {
	if _, err := exec.LookPath("docker"); err != nil {
		t.Skip("docker compose config skipped: no docker client on PATH")
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "docker", "compose", "version").CombinedOutput(); err != nil {
		t.Skipf("docker compose config skipped: the compose plugin is not installed (%v: %s)", err, bytes.TrimSpace(out))
	}
	out, err := exec.CommandContext(ctx, "docker", "compose", "-f", "../docker-compose.yml", "config", "-q").CombinedOutput()
	if err != nil {
		t.Fatalf("docker compose config -q: %v\n%s", err, out)
	}
}

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	Cmd  string // upper case: FROM, RUN, ...
	Args string
	Line int
}

// parseDockerfile splits a Dockerfile into stages of instructions. It knows
// comments, parser directives and backslash continuations, which is all this
// Dockerfile uses.
func parseDockerfile(t *testing.T, src []byte) [][]instruction {
	t.Helper()
	var stages [][]instruction
	var cur strings.Builder
	start := 0
	sc := bufio.NewScanner(bytes.NewReader(src))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") || (line == "" && cur.Len() == 0) {
			continue // comments may also sit between continuation lines
		}
		if cur.Len() == 0 {
			start = n
		}
		if body, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(body + " ")
			continue
		}
		cur.WriteString(line)
		cmd, args, _ := strings.Cut(strings.TrimSpace(cur.String()), " ")
		cur.Reset()
		in := instruction{Cmd: strings.ToUpper(cmd), Args: strings.Join(strings.Fields(args), " "), Line: start}
		if in.Cmd == "FROM" {
			stages = append(stages, nil)
		} else if len(stages) == 0 && in.Cmd != "ARG" {
			t.Fatalf("Dockerfile:%d: %s before the first FROM", start, in.Cmd)
		}
		if len(stages) > 0 {
			stages[len(stages)-1] = append(stages[len(stages)-1], in)
		}
	}
	if cur.Len() > 0 {
		t.Fatal("Dockerfile ends inside a continued line")
	}
	return stages
}

// find returns the instructions of one kind in a stage.
func find(stage []instruction, cmd string) []instruction {
	var out []instruction
	for _, in := range stage {
		if in.Cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

func TestDockerfile(t *testing.T) {
	stages := parseDockerfile(t, readFile(t, "../Dockerfile"))
	if len(stages) != 2 {
		t.Fatalf("Dockerfile has %d stages, want 2 (build and run)", len(stages))
	}
	build, final := stages[0], stages[1]

	// Build stage: an official Go image of go.mod's Go version.
	from := build[0].Args
	image, alias, _ := strings.Cut(from, " AS ")
	if alias != "build" {
		t.Errorf("first stage %q: want it named build", from)
	}
	goLine := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(readFile(t, "../go.mod"))
	if goLine == nil {
		t.Fatal("go.mod has no go line")
	}
	if want := "golang:" + string(goLine[1]); image != want && !strings.HasPrefix(image, want+"-") && !strings.HasPrefix(image, want+".") {
		t.Errorf("build image %q: want %s (go.mod says go %s)", image, want, goLine[1])
	}
	copyMod := slices.IndexFunc(build, func(in instruction) bool { return in.Cmd == "COPY" && in.Args == "go.mod go.sum ./" })
	download := slices.IndexFunc(build, func(in instruction) bool { return in.Cmd == "RUN" && strings.Contains(in.Args, "go mod download") })
	copyAll := slices.IndexFunc(build, func(in instruction) bool { return in.Cmd == "COPY" && strings.HasPrefix(in.Args, ". ") })
	if copyMod < 0 || download < 0 || copyAll < 0 || !(copyMod < download && download < copyAll) {
		t.Errorf("build stage: want COPY go.mod go.sum, then RUN go mod download, then COPY . (module layer cached apart from the code); got positions %d, %d, %d", copyMod, download, copyAll)
	}
	goBuild := slices.IndexFunc(build, func(in instruction) bool { return in.Cmd == "RUN" && strings.Contains(in.Args, "go build") })
	if goBuild < 0 {
		t.Fatal("build stage has no RUN go build")
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "./cmd/ivslive", "-o /out/ivslive"} {
		if !strings.Contains(build[goBuild].Args, want) {
			t.Errorf("Dockerfile:%d go build lacks %s", build[goBuild].Line, want)
		}
	}

	// Final stage: static, non-root, the binary as entry point.
	users := find(final, "USER")
	if len(users) == 0 {
		t.Error("final stage has no USER: it would run as root")
	} else if u, _, _ := strings.Cut(users[len(users)-1].Args, ":"); u == "root" || u == "0" || u == "" {
		t.Errorf("final stage USER %q: want a non-root user", users[len(users)-1].Args)
	}
	if !slices.ContainsFunc(find(final, "EXPOSE"), func(in instruction) bool { return slices.Contains(strings.Fields(in.Args), "3000") }) {
		t.Error("final stage does not EXPOSE 3000")
	}
	checkExecForm(t, final, "ENTRYPOINT", []string{"/ivslive"})
	checkExecForm(t, final, "CMD", []string{"serve"})
	if !slices.ContainsFunc(find(final, "COPY"), func(in instruction) bool {
		return strings.HasPrefix(in.Args, "--from=build") && strings.HasSuffix(in.Args, "/out/ivslive /ivslive")
	}) {
		t.Error("final stage does not COPY --from=build /out/ivslive /ivslive")
	}
	if !slices.ContainsFunc(find(final, "ENV"), func(in instruction) bool { return in.Args == "IVSLIVE_DATA_DIR=/data" }) {
		t.Error("final stage does not set ENV IVSLIVE_DATA_DIR=/data")
	}
	if !slices.ContainsFunc(find(final, "VOLUME"), func(in instruction) bool { return strings.Contains(in.Args, `"/data"`) }) {
		t.Error(`final stage does not declare VOLUME ["/data"]`)
	}
	// The data directory must belong to the user the server runs as, or the
	// volume created from it is read-only to the server.
	if len(users) > 0 && !slices.ContainsFunc(find(final, "COPY"), func(in instruction) bool {
		return strings.Contains(in.Args, "--chown="+users[len(users)-1].Args) && strings.HasSuffix(in.Args, " /data")
	}) {
		t.Errorf("final stage does not COPY --chown=%s the /data directory", users[len(users)-1].Args)
	}
	// The base image has no shell: a HEALTHCHECK could not run.
	for _, in := range find(final, "HEALTHCHECK") {
		if in.Args != "NONE" {
			t.Errorf("Dockerfile:%d HEALTHCHECK %s: the distroless image has no shell or curl to run it; probe GET /health from outside", in.Line, in.Args)
		}
	}
}

func checkExecForm(t *testing.T, stage []instruction, cmd string, want []string) {
	t.Helper()
	ins := find(stage, cmd)
	if len(ins) == 0 {
		t.Errorf("final stage has no %s", cmd)
		return
	}
	var got []string
	// The exec (JSON) form: with no shell in the image, the shell form cannot run.
	if err := json.Unmarshal([]byte(ins[len(ins)-1].Args), &got); err != nil || !slices.Equal(got, want) {
		t.Errorf("%s %s: want the exec form %q", cmd, ins[len(ins)-1].Args, want)
	}
}

// unit is a systemd unit file: section → key → values (keys may repeat).
type unit map[string]map[string][]string

func parseUnit(t *testing.T, src []byte) unit {
	t.Helper()
	u := unit{}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(src))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
			if _, dup := u[section]; dup {
				t.Errorf("ivslive.service:%d: section [%s] repeated", n, section)
			}
			u[section] = map[string][]string{}
		case strings.HasSuffix(line, `\`):
			t.Fatalf("ivslive.service:%d: continuation lines are not expected here", n)
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("ivslive.service:%d: %q is not a key=value line in a section", n, line)
			}
			k = strings.TrimSpace(k)
			u[section][k] = append(u[section][k], strings.TrimSpace(v))
		}
	}
	return u
}

// last is the value in force for a single-valued key: systemd takes the last.
func (u unit) last(section, key string) (string, bool) {
	vs := u[section][key]
	if len(vs) == 0 {
		return "", false
	}
	return vs[len(vs)-1], true
}

func TestUnit(t *testing.T) {
	u := parseUnit(t, readFile(t, "ivslive.service"))
	for _, s := range []string{"Unit", "Service", "Install"} {
		if u[s] == nil {
			t.Errorf("ivslive.service has no [%s] section", s)
		}
	}
	want := map[string]string{
		"User":                "ivslive",
		"EnvironmentFile":     "-/etc/ivslive/ivslive.env",
		"WorkingDirectory":    "/var/lib/ivslive",
		"ExecStart":           "/usr/local/bin/ivslive serve",
		"Restart":             "on-failure",
		"KillSignal":          "SIGTERM",
		"TimeoutStopSec":      "30",
		"NoNewPrivileges":     "yes",
		"ProtectSystem":       "strict",
		"ProtectHome":         "yes",
		"PrivateTmp":          "yes",
		"ReadWritePaths":      "/var/lib/ivslive",
		"StateDirectory":      "ivslive",
		"AmbientCapabilities": "",
		"LimitNOFILE":         "65536",
	}
	for k, v := range want {
		got, ok := u.last("Service", k)
		if !ok {
			t.Errorf("[Service] has no %s (want %s=%s)", k, k, v)
		} else if got != v {
			t.Errorf("[Service] %s=%s, want %s", k, got, v)
		}
	}
	if got, _ := u.last("Install", "WantedBy"); got != "multi-user.target" {
		t.Errorf("[Install] WantedBy=%s, want multi-user.target", got)
	}
	// The data directory the server is told to use is the one systemd
	// creates and leaves writable.
	var dataDir string
	for _, e := range u["Service"]["Environment"] {
		if v, ok := strings.CutPrefix(e, "IVSLIVE_DATA_DIR="); ok {
			dataDir = v
		}
	}
	if state, _ := u.last("Service", "StateDirectory"); dataDir != "/var/lib/"+state {
		t.Errorf("Environment IVSLIVE_DATA_DIR=%q, want /var/lib/%s (the StateDirectory)", dataDir, state)
	}
	// Every variable the unit sets is one ivslive reads.
	known := envExampleNames(t)
	for _, e := range u["Service"]["Environment"] {
		if k, _, _ := strings.Cut(e, "="); !hasKey(known, k) {
			t.Errorf("Environment sets %s, which ivslive does not read (not in .env.example)", k)
		}
	}
}

func hasKey(m map[string]string, k string) bool { _, ok := m[k]; return ok }

// TestUnitVerify lets systemd's own checker read the unit where it is
// installed (it works without systemd running). The binary is not installed
// here, so ExecStart points at an executable that exists.
func TestUnitVerify(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze verify skipped: not installed")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(string(readFile(t, "ivslive.service")), "ExecStart=/usr/local/bin/ivslive", "ExecStart="+self, 1)
	path := filepath.Join(t.TempDir(), "ivslive.service")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, analyze, "verify", path).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	// verify exits 0 on warnings too; any line about our unit is one.
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "ivslive.service") {
			t.Errorf("systemd-analyze verify: %s", line)
		}
	}
}
