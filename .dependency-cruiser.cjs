/** One-way imports (STYLE.md §8): engine → nothing; sequencer → engine; api → sequencer, engine;
 *  mq → engine types; ws-server, db → mq codec and engine types; ops → everything.
 *  The mq codec (mq/envelope.ts, mq/envelope-schemas.ts: pure, engine imports only) is also open to
 *  api, which serves its description at /asyncapi.json. */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'value-import cycles only: a cycle made of `import type` edges vanishes at run time',
      severity: 'error',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'engine-is-pure',
      comment: 'engine imports nothing outside itself: no node built-ins, no packages, no other layer',
      severity: 'error',
      from: { path: '^engine/', pathNot: '\\.(test|bench)\\.ts$' },
      to: { pathNot: '^engine/' },
    },
    { name: 'sequencer-deps', severity: 'error', from: { path: '^sequencer/' }, to: { path: '^(api|mq|ws-server|db|ops)/' } },
    {
      name: 'api-deps',
      comment: 'api may use the mq codec (envelope shapes and their JSON Schemas) and the ws-server protocol schemas (pure, zod only), for /asyncapi.json; not the publishers or servers',
      severity: 'error',
      from: { path: '^api/' },
      to: { path: '^(mq|ws-server|ops)/', pathNot: '^(mq/envelope(-schemas)?|ws-server/protocol)\\.ts$' },
    },
    {
      name: 'mq-codec-is-pure',
      comment: 'the mq codec, shared with api, ws-server and db, imports only the engine and itself: no broker client, no I/O',
      severity: 'error',
      from: { path: '^mq/envelope(-schemas)?\\.ts$' },
      to: { pathNot: '^(engine/|mq/envelope(-schemas)?\\.ts$)' },
    },
    { name: 'mq-deps', severity: 'error', from: { path: '^mq/' }, to: { path: '^(api|sequencer|ws-server|db|ops)/' } },
    { name: 'ws-server-deps', severity: 'error', from: { path: '^ws-server/' }, to: { path: '^(api|sequencer|db|ops)/' } },
    {
      name: 'ws-protocol-is-pure',
      comment: 'ws-server/protocol.ts, shared with api (for /asyncapi.json), imports zod and the pure lib/strict-json.ts only',
      severity: 'error',
      from: { path: '^ws-server/protocol\\.ts$' },
      to: { path: '^(?!node_modules/zod/|lib/strict-json\\.ts$)' },
    },
    {
      name: 'io-clients-in-adapters-and-ops',
      comment:
        'broker, database and socket clients (pg, ioredis, kafkajs, amqplib, ws, node:http/https/net) are imported for their values only by adapter files (*/adapters/*) and ops/; elsewhere a type import of a port is all (README "Layout and rules")',
      severity: 'error',
      from: { path: '^(api|sequencer|engine|mq|ws-server|db)/', pathNot: '(/adapters/|\\.test\\.ts$|\\.bench\\.ts$|test-support|/testing/)' },
      to: { path: '(^|/)node_modules/(pg|ioredis|kafkajs|amqplib|ws)/|^(node:)?(http|https|net)$', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'web-is-a-client',
      comment: 'the trading page (web/src, bundled for the browser) imports only itself and its npm packages: no server folder, no node built-in — it speaks the public contract like any outside client',
      severity: 'error',
      from: { path: '^web/src/', pathNot: '\\.test\\.ts$' },
      to: { pathNot: '^(web/src/|node_modules/(lightweight-charts|fancy-canvas)/)' },
    },
    { name: 'server-not-web', severity: 'error', from: { path: '^(api|sequencer|engine|mq|ws-server|db)/' }, to: { path: '^web/' } },
    { name: 'db-deps', severity: 'error', from: { path: '^db/' }, to: { path: '^(api|sequencer|ws-server|ops)/' } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(\\.data|web/dist)' },
  },
};
