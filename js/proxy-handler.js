// The one `createProxyHandler`, shared by the proxy's entries (js/proxy.js and
// js/proxy-workerd.js), which differ only in where the client's address comes from.

/**
 * Makes `createProxyHandler` for an entry: `ProxyHandler` is the edge build's class, and
 * `connectionOf(request, info)` gives the connection info it reads (`{ clientAddress }`).
 */
export function proxyHandlerFactory(ProxyHandler, connectionOf) {
  /**
   * A fetch handler, `(request: Request, info?) => Promise<Response>`, that forwards the
   * page's requests to the Singing Cloning API with the credentials of `config`. Throws a
   * `SingingCloningError` (code `validation`, with `issues`) for a wrong config.
   */
  return function createProxyHandler(config, io) {
    const handler = new ProxyHandler(config, io);
    const handle = (request, info) => handler.fetch(request, connectionOf(request, info));
    // The Node server's way in (js/proxy-server.js): a request as parts, no fetch objects.
    handle.parts = (method, url, rawHeaders, body, clientAddress) =>
      handler.handleParts(method, url, rawHeaders, body, clientAddress);
    return handle;
  };
}
