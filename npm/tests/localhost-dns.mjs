// Test shim, preloaded with `node --import`: resolves `*.localhost` (the E2B mock's sandbox
// hosts, `3000-<id>.localhost:<port>`) to 127.0.0.1, as browsers do by themselves (RFC 6761)
// and Node's resolver does not. Node's sockets (fetch's, `ws`'s, WebSocket's) look names up
// with `dns.lookup` as it is when they connect, so patching it here is enough.
import dns from "node:dns";

const lookup = dns.lookup;
dns.lookup = function (hostname, ...rest) {
  const loopback = typeof hostname === "string" && hostname.endsWith(".localhost");
  return lookup.call(this, loopback ? "127.0.0.1" : hostname, ...rest);
};
