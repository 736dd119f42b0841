/** One-way imports (STYLE.md §8): engine → nothing; contract → engine, zod, lib/crc32, lib/strict-json; sequencer → engine;
 *  api → sequencer, engine, contract; mq, ws-server, db → contract and engine; ops → everything.
 *  contract/ is the wire contract (envelopes and their schemas, broker routes, WebSocket frames, the
 *  book checksum, decimal/ID text, the ports api, db and ws-server share): pure, so every server layer
 *  may import it and none needs an exception to reach another's files. */
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
    {
      name: 'lib-is-generic',
      comment: 'lib/ (segment log, CRC-32, back-off) knows no domain: node built-ins and its own files only, no layer, no package',
      severity: 'error',
      from: { path: '^lib/', pathNot: '\\.test\\.ts$' },
      to: { pathNot: '^lib/', dependencyTypesNot: ['core'] },
    },
    { name: 'sequencer-deps', severity: 'error', from: { path: '^sequencer/' }, to: { path: '^(api|contract|mq|ws-server|db|ops)/' } },
    {
      name: 'contract-is-pure',
      comment:
        'the wire contract, shared by api, mq, ws-server and db, imports only itself, the engine (pure), zod, the one CRC-32 (lib/crc32.ts, for the book checksum) and the strict JSON parse (lib/strict-json.ts, for client frames): no other layer, no broker client, no I/O (its tests may use their tools)',
      severity: 'error',
      from: { path: '^contract/', pathNot: '\\.test(-support)?\\.ts$' },
      to: { pathNot: '^(contract|engine)/|^lib/(crc32|strict-json)\\.ts$|(^|/)node_modules/zod/' },
    },
    {
      name: 'api-deps',
      comment: 'api serves /asyncapi.json from contract/, not from the publishers or servers',
      severity: 'error',
      from: { path: '^api/' },
      to: { path: '^(mq|ws-server|ops)/' },
    },
    { name: 'mq-deps', severity: 'error', from: { path: '^mq/' }, to: { path: '^(api|sequencer|ws-server|db|ops)/' } },
    { name: 'ws-server-deps', severity: 'error', from: { path: '^ws-server/' }, to: { path: '^(api|sequencer|db|ops)/' } },
    {
      name: 'io-clients-in-adapters-and-ops',
      comment:
        'broker, database and socket clients (pg, ioredis, kafkajs, amqplib, ws, node:http/https/net) are imported for their values only by adapter files (*/adapters/*) and ops/; elsewhere a type import of a port is all (README "Layout and rules")',
      severity: 'error',
      from: {
        path: '^(api|sequencer|engine|mq|ws-server|db)/',
        pathNot: '(/adapters/|\\.test\\.ts$|\\.bench\\.ts$|test-support|/testing/)',
      },
      to: { path: '(^|/)node_modules/(pg|ioredis|kafkajs|amqplib|ws)/|^(node:)?(http|https|net)$', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'web-is-a-client',
      comment:
        'the trading page (web/src, bundled for the browser) imports only itself and its npm packages: no server folder, no node built-in — it speaks the public contract like any outside client',
      severity: 'error',
      from: { path: '^web/src/', pathNot: '\\.test\\.ts$' },
      to: { pathNot: '^web/src/|(^|/)node_modules/(lightweight-charts|fancy-canvas)/' },
    },
    {
      name: 'server-not-web',
      severity: 'error',
      from: { path: '^(api|contract|sequencer|engine|mq|ws-server|db)/' },
      to: { path: '^web/' },
    },
    { name: 'db-deps', severity: 'error', from: { path: '^db/' }, to: { path: '^(api|sequencer|ws-server|ops)/' } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(\\.data|web/dist)' },
  },
};
