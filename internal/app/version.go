package app

import "runtime/debug"

// Version is the build's version and VCS revision, as `ivslive version`
// prints it and the API reports it.
func Version() string {
	v, rev := "(devel)", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				rev = " " + s.Value[:12]
			}
		}
	}
	return "ivslive " + v + rev
}
