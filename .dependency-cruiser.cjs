// The layers of DESIGN.md, checked in `npm test` (npm run lint:deps): every module imports only
// from its own layer or the ones before it in LAYERS, and no import cycle exists anywhere in
// src/ (type-only imports count: a cycle of types is still a knot a reader has to untie).
/* eslint-disable */
const LAYERS = [
  ['util'],
  ['trace'],
  ['config'],
  ['block', 'memory'],
  ['machine'],
  ['nvme', 'pmem'],
  ['nvme-tcp'],
  // The device catalogue registers the NVMe/TCP target's object types too.
  ['devices.ts'],
  ['faults', 'scenario', 'monitor', 'replay'],
  ['pmem2'],
  ['http'],
  ['api', 'entries', 'index.ts'],
  ['cli'],
];

const path = (name) =>
  name.endsWith('.ts') ? `^src/${name.replace('.', '\\.')}$` : `^src/${name}/`;
const forbidden = [
  {
    name: 'no-cycles',
    comment: 'Import cycles make modules that cannot be understood or tested alone.',
    severity: 'error',
    from: { path: '^src/' },
    to: { circular: true },
  },
];
LAYERS.forEach((layer, rank) => {
  const above = LAYERS.slice(rank + 1).flat();
  if (above.length === 0) return;
  for (const name of layer) {
    forbidden.push({
      name: `layer-${name}`,
      comment: `${name} may not import a layer after it (DESIGN.md layers): ${above.join(', ')}`,
      severity: 'error',
      from: { path: path(name), pathNot: '\\.test\\.ts$' },
      to: { path: above.map(path).join('|') },
    });
  }
});

module.exports = {
  forbidden,
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.test\\.ts$' },
  },
};
