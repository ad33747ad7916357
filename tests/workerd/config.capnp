# The proxy as a Cloudflare Worker in the real workerd: js/proxy-workerd.js with the edge
# WebAssembly as a compiled module, configured by env bindings taken from workerd's own
# environment (the test sets them). The socket address is given on the command line.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "proxy", worker = .proxyWorker),
    # Outbound fetches may reach loopback: the emulator and the callback receiver run there.
    (name = "loopback", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:8787", http = (), service = "proxy")],
);

const proxyWorker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "js/proxy-workerd.js", esModule = embed "../../js/proxy-workerd.js"),
    (name = "js/proxy-durable.js", esModule = embed "../../js/proxy-durable.js"),
    (name = "js/proxy-handler.js", esModule = embed "../../js/proxy-handler.js"),
    (name = "pkg/singing_cloning_edge.js", esModule = embed "../../pkg/singing_cloning_edge.js"),
    (name = "pkg/singing_cloning_edge_bg.wasm", wasm = embed "../../pkg/singing_cloning_edge_bg.wasm"),
  ],
  compatibilityDate = "2024-09-23",
  globalOutbound = "loopback",
  bindings = [
    (name = "SINGING_CLONING_ENDPOINT", fromEnvironment = "SINGING_CLONING_ENDPOINT"),
    (name = "SINGING_CLONING_SECRET_ID", fromEnvironment = "SINGING_CLONING_SECRET_ID"),
    (name = "SINGING_CLONING_SECRET_KEY", fromEnvironment = "SINGING_CLONING_SECRET_KEY"),
    (name = "SINGING_CLONING_PROXY_SECRET", fromEnvironment = "SINGING_CLONING_PROXY_SECRET"),
    (name = "SINGING_CLONING_ALLOWED_ORIGINS", fromEnvironment = "SINGING_CLONING_ALLOWED_ORIGINS"),
    (name = "SINGING_CLONING_PUBLIC_URL", fromEnvironment = "SINGING_CLONING_PUBLIC_URL"),
    (name = "SINGING_CLONING_WEBHOOK_SECRET", fromEnvironment = "SINGING_CLONING_WEBHOOK_SECRET"),
    (name = "SINGING_CLONING_CALLBACK_ALLOW_PRIVATE", text = "true"),
    (name = "SINGING_CLONING_EVENTS_HEARTBEAT_MS", text = "200"),
  ],
);
