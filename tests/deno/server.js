// The proxy in Deno, as docs/proxy.md tells users to run it: the package's proxy entry,
// configured from the environment, served by Deno.serve.
import { createProxyHandler, configFromEnv } from '../../js/proxy.js';

Deno.serve(
  {
    hostname: '127.0.0.1',
    port: 0,
    onListen: ({ hostname, port }) => console.log(`singing-cloning proxy in Deno on http://${hostname}:${port}`),
  },
  createProxyHandler(configFromEnv(Deno.env.toObject())),
);
