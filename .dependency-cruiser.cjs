// Layering of src/, checked by test/unit/layers.test.ts (issue #13). Arrows may only run downward:
//
//   cli                                      (the command line; may import anything, incl. app.ts)
//   app.ts                                   (composition root: wires one process; only cli imports it)
//   mcp   replay                             (the session-side MCP bridge; read-model rebuild/verify)
//   rpc                                      (JSON-RPC methods over NATS)
//   projectors                               (read models; consumer wiring incl. the release manager)
//   workers                                  (sampler worker, release manager, appendStep)
//   sampling                                 (LLM providers and the MCP sampling wire contract)
//   store                                    (JetStream, Redis, Postgres adapters; Connections)
//   domain                                   (pure: decisions, schemas, events; typebox only)
//   errors.ts redact.ts log.ts config.ts     (base: import only each other)
//
//   client                                   (rpc-client: a leaf SDK for callers outside the service)
//
// Projectors may import workers (consumer-handlers starts the release manager, postgres-projector
// uses appendStep): both consume the same log, and the arrow is kept one-way (workers never import
// projectors), so the two form an ordered pair rather than a cycle.
//
// Domain may import errors.ts: it is the one error registry (a leaf with no imports of its own), and
// domain decisions throw its classes (NoSessionError) and use its types (FieldIssue).
//
// A dependency-cruiser module path is relative to the repository root, e.g. `src/store/keys.ts`.

const base = '^src/(errors|redact|log|config)\\.ts$'

/** A forbidden rule: files matching `from` may not import files under src/ other than `allowed`. */
function onlyImports(name, comment, from, allowed) {
  return {
    name,
    comment,
    severity: 'error',
    from: { path: from },
    to: { path: '^src/', pathNot: allowed },
  }
}

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    onlyImports(
      'base-imports-only-base',
      'errors, redact, log and config sit under every layer: they import only one another.',
      base,
      base,
    ),
    onlyImports(
      'domain-is-pure',
      'src/domain imports only itself and the error registry (src/errors.ts).',
      '^src/domain/',
      '^src/(domain/|errors\\.ts$)',
    ),
    {
      name: 'domain-no-io',
      comment: 'src/domain does no I/O: no node builtins, and no package but typebox.',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: { dependencyTypesNot: ['local'], pathNot: '^node_modules/typebox/' },
    },
    onlyImports(
      'store-below-consumers',
      'src/store may import domain and the base modules, nothing above (rpc, projectors, workers, sampling, mcp, cli, replay, app, client).',
      '^src/store/',
      `^src/(store|domain)/|${base}`,
    ),
    onlyImports(
      'sampling-below-workers',
      'src/sampling may import domain, store and the base modules; never rpc, projectors, workers, mcp, cli, replay, app, client.',
      '^src/sampling/',
      `^src/(sampling|store|domain)/|${base}`,
    ),
    onlyImports(
      'workers-below-projectors',
      'src/workers may import sampling, store, domain and the base modules; never projectors, rpc, mcp, cli, replay, app, client.',
      '^src/workers/',
      `^src/(workers|sampling|store|domain)/|${base}`,
    ),
    onlyImports(
      'projectors-below-rpc',
      'src/projectors may import workers, store, domain and the base modules; never sampling, rpc, mcp, cli, replay, app, client.',
      '^src/projectors/',
      `^src/(projectors|workers|store|domain)/|${base}`,
    ),
    {
      name: 'rpc-below-entry-points',
      comment: 'src/rpc may not import mcp, cli, replay, app.ts, or the client SDK (the service does not call itself).',
      severity: 'error',
      from: { path: '^src/rpc/' },
      to: { path: '^src/(mcp/|cli/|replay/|client/|app\\.ts$)' },
    },
    {
      name: 'mcp-below-cli',
      comment: 'src/mcp (the bridge) may not import cli, replay or app.ts.',
      severity: 'error',
      from: { path: '^src/mcp/' },
      to: { path: '^src/(cli/|replay/|app\\.ts$)' },
    },
    {
      name: 'replay-below-cli',
      comment: 'src/replay rebuilds read models from the log: it may not import cli, mcp, rpc, client or app.ts.',
      severity: 'error',
      from: { path: '^src/replay/' },
      to: { path: '^src/(cli/|mcp/|rpc/|client/|app\\.ts$)' },
    },
    onlyImports(
      'client-is-a-leaf',
      'src/client (the JSON-RPC client used by cli, mcp, tests and bench) imports nothing else of src.',
      '^src/client/',
      '^src/client/',
    ),
    {
      name: 'only-cli-imports-app',
      comment: 'src/app.ts is the composition root; within src only the cli may import it.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(cli/|app\\.ts$)' },
      to: { path: '^src/app\\.ts$' },
    },
    {
      name: 'src-not-to-test-or-bench',
      comment: 'Production code never imports tests, benchmarks or scripts.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench|scripts)/' },
    },
    {
      name: 'no-circular',
      comment: 'No import cycles within src.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^src/', circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'Every import resolves (guards against rules passing because a `.js` specifier went unresolved).',
      severity: 'error',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Include `import type` and type-only re-exports: an upward type import is still an upward arrow.
    tsPreCompilationDeps: true,
    // Resolution as tsc does it (NodeNext): `./x.js` specifiers resolve to `./x.ts`.
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'types', 'default'],
      mainFields: ['module', 'main', 'types', 'typings'],
      extensions: ['.ts', '.d.ts', '.js', '.mjs', '.cjs', '.json'],
    },
  },
}
