package bench

// The environment variables through which bench/cmd/benchrun tells a test
// binary of this package what to do.
const (
	// ConfigEnv names the configuration the benchmarks run in (TestMain):
	// plain, nohook, tracking, als or hooks4.
	ConfigEnv = "ASYNCINSTR_BENCH_CONFIG"
	// BuildEnv says how the binary was built, for TestResources: plain
	// (the default), source or toolexec.
	BuildEnv = "ASYNCINSTR_BENCH_BUILD"
)
