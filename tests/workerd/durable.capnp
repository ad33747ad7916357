# Two proxies as one on Workers: two Worker services (two isolates, each its own proxy in
# memory) running js/proxy-workerd.js, sharing one Durable Object namespace of ProxyState
# (js/proxy-durable.js), which proxy "a" defines and both bind as SINGING_CLONING_STATE.
# Settings come from workerd's environment (the test sets them); socket addresses from the
# command line.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "proxy-a", worker = .proxyA),
    (name = "proxy-b", worker = .proxyB),
    # A third proxy whose state object is down: creates fail closed, the rest goes on.
    (name = "proxy-c", worker = .proxyC),
    (name = "down-state", worker = .downState),
    # Where the object's storage lives: a directory the test gives with --directory-path, so that
    # its log outlives a restart of workerd, as it outlives an eviction on Cloudflare.
    (name = "state-disk", disk = (writable = true)),
    # Outbound fetches may reach loopback: the emulator and the callback receiver run there.
    (name = "loopback", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [
    (name = "a", address = "127.0.0.1:8788", http = (), service = "proxy-a"),
    (name = "b", address = "127.0.0.1:8789", http = (), service = "proxy-b"),
    (name = "c", address = "127.0.0.1:8790", http = (), service = "proxy-c"),
  ],
);

const proxyA :Workerd.Worker = (
  modules = .modules,
  compatibilityDate = "2024-09-23",
  globalOutbound = "loopback",
  bindings = .bindings,
  durableObjectNamespaces = [(className = "ProxyState", uniqueKey = "singing-cloning-state")],
  durableObjectStorage = (localDisk = "state-disk"),
);

# Not `inherit = "proxy-a"`: an inheriting Worker shares its parent's isolate, and so its memory.
const proxyB :Workerd.Worker = (
  modules = .modules,
  compatibilityDate = "2024-09-23",
  globalOutbound = "loopback",
  bindings = .bindings,
);

const proxyC :Workerd.Worker = (
  modules = .modules,
  compatibilityDate = "2024-09-23",
  globalOutbound = "loopback",
  bindings = [
    (name = "SINGING_CLONING_STATE", durableObjectNamespace = (className = "ProxyState", serviceName = "down-state")),
    (name = "SINGING_CLONING_ENDPOINT", fromEnvironment = "SINGING_CLONING_ENDPOINT"),
    (name = "SINGING_CLONING_SECRET_ID", fromEnvironment = "SINGING_CLONING_SECRET_ID"),
    (name = "SINGING_CLONING_SECRET_KEY", fromEnvironment = "SINGING_CLONING_SECRET_KEY"),
    (name = "SINGING_CLONING_PROXY_SECRET", fromEnvironment = "SINGING_CLONING_PROXY_SECRET"),
    (name = "SINGING_CLONING_ALLOWED_ORIGINS", fromEnvironment = "SINGING_CLONING_ALLOWED_ORIGINS"),
  ],
);

const downState :Workerd.Worker = (
  modules = [(name = "down-state.js", esModule = embed "down-state.js")],
  compatibilityDate = "2024-09-23",
  durableObjectNamespaces = [(className = "ProxyState", uniqueKey = "singing-cloning-down-state")],
  durableObjectStorage = (inMemory = void),
);

const modules :List(Workerd.Worker.Module) = [
  (name = "worker.js", esModule = embed "durable-worker.js"),
  (name = "js/proxy-workerd.js", esModule = embed "../../js/proxy-workerd.js"),
  (name = "js/proxy-durable.js", esModule = embed "../../js/proxy-durable.js"),
  (name = "js/proxy-handler.js", esModule = embed "../../js/proxy-handler.js"),
  (name = "pkg/singing_cloning_edge.js", esModule = embed "../../pkg/singing_cloning_edge.js"),
  (name = "pkg/singing_cloning_edge_bg.wasm", wasm = embed "../../pkg/singing_cloning_edge_bg.wasm"),
];

const bindings :List(Workerd.Worker.Binding) = [
  (name = "SINGING_CLONING_STATE", durableObjectNamespace = (className = "ProxyState", serviceName = "proxy-a")),
  (name = "SINGING_CLONING_ENDPOINT", fromEnvironment = "SINGING_CLONING_ENDPOINT"),
  (name = "SINGING_CLONING_SECRET_ID", fromEnvironment = "SINGING_CLONING_SECRET_ID"),
  (name = "SINGING_CLONING_SECRET_KEY", fromEnvironment = "SINGING_CLONING_SECRET_KEY"),
  (name = "SINGING_CLONING_PROXY_SECRET", fromEnvironment = "SINGING_CLONING_PROXY_SECRET"),
  (name = "SINGING_CLONING_ALLOWED_ORIGINS", fromEnvironment = "SINGING_CLONING_ALLOWED_ORIGINS"),
  (name = "SINGING_CLONING_PUBLIC_URL", fromEnvironment = "SINGING_CLONING_PUBLIC_URL"),
  (name = "SINGING_CLONING_RATE_LIMIT_CAPACITY", fromEnvironment = "SINGING_CLONING_RATE_LIMIT_CAPACITY"),
  (name = "SINGING_CLONING_RATE_LIMIT_REFILL_PER_SECOND", text = "0.01"),
  (name = "SINGING_CLONING_ADDRESS_RATE_LIMIT_CAPACITY", text = "100000"),
  (name = "SINGING_CLONING_ADDRESS_RATE_LIMIT_REFILL_PER_SECOND", text = "1000"),
  (name = "SINGING_CLONING_SESSION_RATE_LIMIT_CAPACITY", text = "100000"),
  (name = "SINGING_CLONING_SESSION_RATE_LIMIT_REFILL_PER_SECOND", text = "1000"),
  (name = "SINGING_CLONING_CALLBACK_ALLOW_PRIVATE", text = "true"),
  (name = "SINGING_CLONING_EVENTS_HEARTBEAT_MS", text = "200"),
];
