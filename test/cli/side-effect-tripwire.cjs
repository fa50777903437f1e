// Preloaded (NODE_OPTIONS=--require) into a command that must do nothing but parse its command line
// (its --help, a usage mistake): the first TCP connection, listening socket or child process ends
// the process with exit 97 naming it, so a test can tell "printed usage" from "started working".
// Only TCP trips it: tsx itself connects to its parent's IPC pipe (a Unix socket path) on start.
const childProcess = require("node:child_process");
const net = require("node:net");
const { isMainThread } = require("node:worker_threads");

function trip(what) {
  process.stderr.write(`tripwire: ${what}\n`);
  process.exit(97);
}

function install() {
  const connect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function (...args) {
    const target = Array.isArray(args[0]) ? args[0][0] : args[0];
    const unixPath = typeof target === "string" || (typeof target === "object" && target !== null && typeof target.path === "string");
    if (!unixPath) trip(`TCP connection (${JSON.stringify(target)})`);
    return connect.apply(this, args);
  };
  net.Server.prototype.listen = () => trip("listening socket");
  for (const name of ["spawn", "spawnSync", "exec", "execSync", "execFile", "execFileSync", "fork"]) {
    childProcess[name] = () => trip(`child process (${name})`);
  }
}

// NODE_OPTIONS preloads this into worker threads too: esbuild (tsx's transformer) starts its
// service from one, and tripping there would leave the main thread waiting on it forever.
if (isMainThread) install();
