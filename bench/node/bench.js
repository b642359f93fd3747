#!/usr/bin/env node
// bench/node/bench.js: the Node.js half of asyncinstr's async_hooks
// benchmarks.
//
// asyncinstr brings Node's async_hooks (createHook, AsyncLocalStorage) to Go
// by rewriting source. The Go benchmarks measure what the rewritten entry
// points cost against the plain Go constructs. This script measures what
// Node's own async_hooks cost on the equivalent Node constructs, so that the
// two overheads can be compared side by side.
//
// Usage:
//
//   node bench/node/bench.js -config=CONFIG [-bench=REGEXP] [-benchtime=DURATION]
//
// Flags may be written -name=value, -name value, --name=value or --name value.
//
//   -config     one of the four configurations below (required).
//   -bench      a JavaScript RegExp; runs the workloads whose name matches it
//               (default: all). As with go test -bench, it may be written
//               against the name without the "Benchmark" prefix
//               (-bench='^SetImmediate$') or against the full name
//               (-bench='^BenchmarkSetImmediate$'): a workload runs if either
//               matches.
//   -benchtime  the minimum time of the reported run, as in Go: "500ms",
//               "1s", "2s" (units ns, us, ms, s, m, h; fractions allowed).
//               Default 1s. "Nx" runs exactly N operations, as in Go.
//
// Configurations (the same four the Go side uses), set up before any
// workload runs:
//
//   plain    async_hooks is not loaded at all.
//   nohook   require('async_hooks').createHook({}).enable(): the machinery is
//            loaded and a hook is enabled, but it has no callbacks.
//   als      one AsyncLocalStorage; every workload, its setup included, runs
//            inside als.run({id: 1}, ...) so every resource carries the store.
//            Nothing reads the store in the hot path.
//   hooks4   four hooks, each with no-op init, before, after, destroy and
//            promiseResolve callbacks, all enabled.
//
// Workloads, and the Go workload each one pairs with:
//
//   SetImmediate   spawn+join: one goroutine started and joined (a
//                  sync.WaitGroup). One op: one setImmediate
//                  callback scheduled and run; sequential, one in flight.
//   FanOut1000     1,000 goroutines joined by a sync.WaitGroup. One op:
//                  1,000 setImmediate callbacks scheduled at once, each
//                  decrementing a counter; the op ends when it reaches zero.
//   SetTimeout     time.AfterFunc(0, f) and waiting for f. Node clamps a
//                  0 ms delay to 1 ms, so timers are scheduled in batches of
//                  10,000 (setTimeout(cb, 0)) and each batch is awaited; one
//                  op is one timer, so the 1 ms wait is spread over a batch.
//   PromiseChain   an unbuffered channel between a producer and a consumer
//                  goroutine. One op: one handoff through an unbuffered
//                  promise channel (Channel below, capacity 0).
//   AsyncQueue64   a buffered channel (capacity 64) between a producer and a
//                  consumer. One op: one handoff through Channel(64).
//   WorkerPool     a worker pool. One op: 4 async workers take 64 jobs from a
//                  Channel(8) until it is closed; each job sums 0..99 into a
//                  shared total; the op ends when all 4 workers return.
//   HTTP           a loopback HTTP server. One op: one GET of / on
//                  127.0.0.1 through a keep-alive agent with one socket,
//                  reading the 2-byte body; sequential.
//
// Measurement follows Go's testing.B: each workload runs once with n=1 (a
// warm-up), then with a growing n (predicted from the previous run, at most
// 100x per step, 1.2x headroom) until one run takes at least the benchtime;
// the last run's n and elapsed/n are reported. Runs are timed with
// process.hrtime.bigint(), around the workload only (setup and teardown are
// outside). global.gc() is called before each timed run when the runner
// passes --expose-gc; the script works without it.
//
// Output: one line per workload on stdout, in go test -bench's format, so
// benchstat can read it:
//
//   BenchmarkSetImmediate   	 2000000	       512.3 ns/op
//
// (name padded to the longest selected name, a tab, n in 8 columns, a tab,
// ns/op with at least one decimal). No -GOMAXPROCS suffix: Node runs the
// JavaScript on one thread. Nothing else goes to stdout. Errors go to stderr
// with exit status 1; a bad flag exits with status 2 and a usage message.

'use strict';

const http = require('http');

// ---------------------------------------------------------------------------
// Flags.

const USAGE = `usage: node bench/node/bench.js -config=plain|nohook|als|hooks4 [-bench=REGEXP] [-benchtime=DURATION]

  -config     plain (async_hooks not loaded), nohook (a hook with no callbacks),
              als (every workload inside AsyncLocalStorage.run), hooks4 (four
              hooks with no-op init/before/after/destroy/promiseResolve)
  -bench      RegExp selecting workloads by name (default: all)
  -benchtime  minimum duration of the reported run, e.g. 500ms, 1s (default 1s),
              or Nx for exactly N operations
`;

const CONFIGS = ['plain', 'nohook', 'als', 'hooks4'];

// usageError reports a bad command line the way Go's flag package does.
function usageError(msg) {
  process.stderr.write(`bench.js: ${msg}\n${USAGE}`);
  process.exit(2);
}

// parseDuration parses a Go-style duration ("500ms", "1.5s", "2m") into
// nanoseconds; it returns NaN if the text is not one.
function parseDuration(text) {
  const units = { ns: 1, us: 1e3, 'µs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;
  if (text === '0') return 0;
  let total = 0;
  let pos = 0;
  while (pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (m === null) return NaN;
    total += parseFloat(m[1]) * units[m[2]];
    pos = re.lastIndex;
  }
  return pos === 0 ? NaN : Math.round(total);
}

// parseFlags returns {config, bench, benchtime} where benchtime is
// {ns} or {iters}.
function parseFlags(argv) {
  const flags = { config: null, bench: null, benchtime: '1s' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const m = /^--?([A-Za-z]+)(?:=([\s\S]*))?$/.exec(arg);
    if (m === null) usageError(`unexpected argument ${JSON.stringify(arg)}`);
    const name = m[1];
    let value = m[2];
    if (name === 'h' || name === 'help') {
      process.stdout.write(USAGE);
      process.exit(0);
    }
    if (!Object.prototype.hasOwnProperty.call(flags, name)) {
      usageError(`flag provided but not defined: -${name}`);
    }
    if (value === undefined) {
      if (i + 1 >= argv.length) usageError(`flag needs an argument: -${name}`);
      value = argv[++i];
    }
    flags[name] = value;
  }

  if (flags.config === null) usageError('-config is required');
  if (!CONFIGS.includes(flags.config)) {
    usageError(`invalid value ${JSON.stringify(flags.config)} for -config: want one of ${CONFIGS.join(', ')}`);
  }

  let bench = null;
  if (flags.bench !== null && flags.bench !== '') {
    try {
      bench = new RegExp(flags.bench);
    } catch (err) {
      usageError(`invalid value ${JSON.stringify(flags.bench)} for -bench: ${err.message}`);
    }
  }

  let benchtime;
  const iters = /^(\d+)x$/.exec(flags.benchtime);
  if (iters !== null && Number(iters[1]) > 0) {
    benchtime = { iters: Number(iters[1]) };
  } else {
    const ns = parseDuration(flags.benchtime);
    if (!(ns >= 0)) usageError(`invalid value ${JSON.stringify(flags.benchtime)} for -benchtime`);
    benchtime = { ns };
  }

  return { config: flags.config, bench, benchtime };
}

// ---------------------------------------------------------------------------
// Configurations.

// setupConfig installs the configuration and returns a function that runs
// one workload (setup, timed runs and teardown) under it.
function setupConfig(config) {
  switch (config) {
    case 'plain':
      // async_hooks is never required.
      return (fn) => fn();
    case 'nohook':
      require('async_hooks').createHook({}).enable();
      return (fn) => fn();
    case 'als': {
      const { AsyncLocalStorage } = require('async_hooks');
      const als = new AsyncLocalStorage();
      return (fn) => als.run({ id: 1 }, fn);
    }
    case 'hooks4': {
      const { createHook } = require('async_hooks');
      for (let i = 0; i < 4; i++) {
        createHook({
          init() {},
          before() {},
          after() {},
          destroy() {},
          promiseResolve() {},
        }).enable();
      }
      return (fn) => fn();
    }
    default:
      throw new Error(`unknown config ${config}`);
  }
}

// ---------------------------------------------------------------------------
// Channel: a Go-like channel built from promises, used by PromiseChain,
// AsyncQueue64 and WorkerPool.
//
// send(v) returns a promise that resolves once v is in the buffer or a
// receiver has taken it (for capacity 0: once a receiver has taken it).
// recv() returns a promise of the next value, or of CLOSED once the channel
// is closed and drained. close() wakes every waiting receiver with CLOSED.

const CLOSED = Symbol('closed');

class Channel {
  constructor(capacity) {
    this.capacity = capacity;
    this.buffer = []; // buffered values, at most capacity of them
    this.senders = []; // blocked senders: {value, resolve, reject}
    this.receivers = []; // blocked receivers: resolve functions
    this.closed = false;
  }

  send(value) {
    if (this.closed) return Promise.reject(new Error('send on closed channel'));
    if (this.receivers.length > 0) {
      // A receiver is waiting (so the buffer is empty): hand v over directly.
      this.receivers.shift()(value);
      return Promise.resolve();
    }
    if (this.buffer.length < this.capacity) {
      this.buffer.push(value);
      return Promise.resolve();
    }
    // No receiver and no room: wait until a receiver makes room or takes v.
    return new Promise((resolve, reject) => {
      this.senders.push({ value, resolve, reject });
    });
  }

  recv() {
    if (this.buffer.length > 0) {
      const value = this.buffer.shift();
      if (this.senders.length > 0) {
        // A slot came free: the first blocked sender's value moves in.
        const sender = this.senders.shift();
        this.buffer.push(sender.value);
        sender.resolve();
      }
      return Promise.resolve(value);
    }
    if (this.senders.length > 0) {
      // Unbuffered: take the value straight from a blocked sender.
      const sender = this.senders.shift();
      sender.resolve();
      return Promise.resolve(sender.value);
    }
    if (this.closed) return Promise.resolve(CLOSED);
    return new Promise((resolve) => {
      this.receivers.push(resolve);
    });
  }

  close() {
    if (this.closed) throw new Error('close of closed channel');
    this.closed = true;
    // Blocked receivers (the buffer is empty if there are any) get CLOSED.
    for (const resolve of this.receivers) resolve(CLOSED);
    this.receivers = [];
    // As in Go, a sender still blocked on a closed channel fails.
    for (const sender of this.senders) sender.reject(new Error('send on closed channel'));
    this.senders = [];
  }
}

// handoffs sends 0..n-1 from a producer to a consumer through a channel of
// the given capacity (PromiseChain and AsyncQueue64).
async function handoffs(n, capacity) {
  const ch = new Channel(capacity);
  async function producer() {
    for (let i = 0; i < n; i++) await ch.send(i);
  }
  async function consumer() {
    for (let i = 0; i < n; i++) {
      const v = await ch.recv();
      if (v !== i) throw new Error(`received ${String(v)}, want ${i}`);
    }
  }
  await Promise.all([producer(), consumer()]);
}

// ---------------------------------------------------------------------------
// Workloads. Each has a name and a setup function returning {run, close}:
// run(n) performs n operations and resolves when they are all done (this is
// what is timed); close() releases what setup made (optional).

const IMMEDIATE_FANOUT = 1000;
const TIMER_BATCH = 10000;
const POOL_WORKERS = 4;
const POOL_CAPACITY = 8;
const POOL_JOBS = 64;

const WORKLOADS = [
  {
    name: 'SetImmediate',
    setup: () => ({
      run: (n) =>
        new Promise((resolve) => {
          let done = 0;
          function tick() {
            if (++done >= n) resolve();
            else setImmediate(tick);
          }
          setImmediate(tick);
        }),
    }),
  },

  {
    name: 'FanOut1000',
    setup: () => ({
      async run(n) {
        for (let op = 0; op < n; op++) {
          await new Promise((resolve) => {
            let left = IMMEDIATE_FANOUT;
            const cb = () => {
              if (--left === 0) resolve();
            };
            for (let i = 0; i < IMMEDIATE_FANOUT; i++) setImmediate(cb);
          });
        }
      },
    }),
  },

  {
    name: 'SetTimeout',
    setup: () => ({
      async run(n) {
        for (let remaining = n; remaining > 0; ) {
          const batch = Math.min(remaining, TIMER_BATCH);
          await new Promise((resolve) => {
            let left = batch;
            const cb = () => {
              if (--left === 0) resolve();
            };
            for (let i = 0; i < batch; i++) setTimeout(cb, 0);
          });
          remaining -= batch;
        }
      },
    }),
  },

  {
    name: 'PromiseChain',
    setup: () => ({ run: (n) => handoffs(n, 0) }),
  },

  {
    name: 'AsyncQueue64',
    setup: () => ({ run: (n) => handoffs(n, 64) }),
  },

  {
    name: 'WorkerPool',
    setup: () => ({
      async run(n) {
        for (let op = 0; op < n; op++) {
          const jobs = new Channel(POOL_CAPACITY);
          let total = 0;
          async function worker() {
            for (;;) {
              const job = await jobs.recv();
              if (job === CLOSED) return;
              let sum = 0;
              for (let i = 0; i < 100; i++) sum += i;
              total += sum;
            }
          }
          const workers = [];
          for (let w = 0; w < POOL_WORKERS; w++) workers.push(worker());
          for (let j = 0; j < POOL_JOBS; j++) await jobs.send(j);
          jobs.close();
          await Promise.all(workers);
          if (total !== POOL_JOBS * 4950) throw new Error(`WorkerPool total ${total}, want ${POOL_JOBS * 4950}`);
        }
      },
    }),
  },

  {
    name: 'HTTP',
    async setup() {
      const server = http.createServer((req, res) => res.end('ok'));
      await new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', resolve);
      });
      const { port } = server.address();
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

      // get performs one GET / and resolves once the whole body is read.
      const get = () =>
        new Promise((resolve, reject) => {
          const req = http.get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (chunk) => {
              body += chunk;
            });
            res.on('end', () => {
              if (res.statusCode === 200 && body === 'ok') resolve();
              else reject(new Error(`GET /: status ${res.statusCode}, body ${JSON.stringify(body)}`));
            });
            res.on('error', reject);
          });
          req.on('error', reject);
        });

      return {
        async run(n) {
          for (let i = 0; i < n; i++) await get();
        },
        async close() {
          agent.destroy();
          await new Promise((resolve) => server.close(() => resolve()));
        },
      };
    },
  },
];

// ---------------------------------------------------------------------------
// Measurement, after Go's testing.B.

const MAX_ITERS = 1e9;

// predictN is testing.B's predictN: aim for goalNs with 1.2x headroom, grow
// by at most 100x, by at least 1, and never past 1e9.
function predictN(goalNs, prevIters, prevNs, last) {
  if (prevNs <= 0) prevNs = 1;
  let n = Math.floor((goalNs * prevIters) / prevNs);
  n += Math.floor(n / 5);
  n = Math.min(n, 100 * last);
  n = Math.max(n, last + 1);
  n = Math.min(n, MAX_ITERS);
  return n;
}

// measure runs one workload and returns {n, ns} of its last (reported) run.
async function measure(workload, benchtime) {
  const instance = await workload.setup();
  try {
    const runN = async (n) => {
      if (typeof global.gc === 'function') global.gc();
      const start = process.hrtime.bigint();
      await instance.run(n);
      return Number(process.hrtime.bigint() - start);
    };

    let n = 1;
    let ns = await runN(1); // warm-up
    if (benchtime.iters !== undefined) {
      if (benchtime.iters > 1) {
        n = benchtime.iters;
        ns = await runN(n);
      }
    } else {
      while (ns < benchtime.ns && n < MAX_ITERS) {
        n = predictN(benchtime.ns, n, ns, n);
        ns = await runN(n);
      }
    }
    return { n, ns };
  } finally {
    if (instance.close) await instance.close();
  }
}

// formatNsPerOp prints ns/op like Go's prettyPrint (column widths keep the
// decimal points aligned), except that it always keeps at least one decimal.
function formatNsPerOp(x) {
  let decimals;
  let width;
  if (x >= 99.995) [decimals, width] = [1, 12];
  else if (x >= 9.9995) [decimals, width] = [2, 13];
  else if (x >= 0.99995) [decimals, width] = [3, 14];
  else if (x >= 0.099995) [decimals, width] = [4, 15];
  else [decimals, width] = [5, 16];
  return x.toFixed(decimals).padStart(width);
}

async function main() {
  const flags = parseFlags(process.argv.slice(2));
  const within = setupConfig(flags.config);

  const selected = WORKLOADS.filter((w) => {
    if (flags.bench === null) return true;
    return flags.bench.test(w.name) || flags.bench.test('Benchmark' + w.name);
  });
  if (selected.length === 0) process.stderr.write('bench.js: warning: no workload matches -bench\n');
  const width = Math.max(0, ...selected.map((w) => ('Benchmark' + w.name).length));

  for (const workload of selected) {
    const { n, ns } = await within(() => measure(workload, flags.benchtime));
    const name = ('Benchmark' + workload.name).padEnd(width);
    process.stdout.write(`${name}\t${String(n).padStart(8)}\t${formatNsPerOp(ns / n)} ns/op\n`);
  }
}

main().catch((err) => {
  process.stderr.write(`bench.js: ${err && err.stack ? err.stack : err}\n`);
  // Exit now: a failed workload may have left a server or timers behind.
  process.exit(1);
});
