// Which way imports may run (docs/architecture.md, "Imports"), checked by `npm test` (npm run check:imports):
// resolvers -> services -> db/queue/pubsub; engine handlers -> pipeline -> imaging and the model code
// (engine/autoencoder, classifier, detector, backends); src/evaluation only from the CLI and the evaluate job;
// no import cycles.
const MODEL_CODE = '^src/engine/(autoencoder|classifier|detector|backends)/';
/** What every layer may read: the pipeline's shared vocabulary (class maps, defaults, types). */
const SHARED = '^src/pipeline/(class-maps|defaults|types)\\.ts$';

// No import cycles between src's folders either: the folders in layers, top first. A folder imports only
// folders of lower layers (not its peers in the same layer). src/engine's own files and its handlers are one
// folder (the engine process: the registry runs the handlers, they use its job context); the model code under
// src/engine is one folder each. Files directly in src (app, config, logger) and tests are left out.
const FOLDER_LAYERS = [
  ['cli'], ['http'], ['resolvers'], ['schema'], ['engine'], ['evaluation'], ['services'], ['jobs'], ['pipeline'],
  ['engine/autoencoder', 'engine/classifier', 'engine/detector'], ['engine/backends'],
  ['db', 'pubsub', 'queue', 'storage'], ['imaging'],
];
const folderPath = (f) => (f === 'engine' ? '^src/engine/(handlers/|[^/]+$)' : `^src/${f}/`);
const folderOrder = FOLDER_LAYERS.flatMap((layer, i) => layer.map((folder) => {
  const above = [...FOLDER_LAYERS.slice(0, i).flat(), ...layer.filter((f) => f !== folder)];
  return {
    name: `folder-order-${folder.replace('/', '-')}`,
    severity: 'error',
    comment: `src/${folder} imports only folders below it (FOLDER_LAYERS): never ${above.join(', ')}`,
    from: { path: folderPath(folder), pathNot: '\\.test\\.ts$' },
    to: { path: above.map(folderPath).join('|') },
  };
}).filter((rule) => rule.to.path !== ''));

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'modules that import each other, directly or around a loop (a loop closed only by type imports is harmless at run time)',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'resolvers-through-services',
      severity: 'error',
      comment: 'resolvers parse, check and delegate to services; they never touch the database, the queue or the engine',
      from: { path: '^src/(resolvers|schema|http)/' },
      // The GraphQL mappers read entity rows' shapes (src/db/entities), never a connection; http also serves
      // stored bytes (images, crops) from the object store (src/storage).
      to: { path: '^src/(db|queue|engine|evaluation|cli)/|^src/pipeline/|^src/storage/', pathNot: `${SHARED}|^src/db/entities/|^src/storage/(blobs|object-store)\\.ts$` },
    },
    {
      name: 'services-not-upwards',
      severity: 'error',
      comment: 'services use db/queue/pubsub/storage; they know nothing of GraphQL, HTTP, the engine or the evaluation',
      from: { path: '^src/services/' },
      to: { path: '^src/(resolvers|schema|http|engine|evaluation|cli)/|^src/pipeline/', pathNot: SHARED },
    },
    {
      name: 'adapters-not-upwards',
      severity: 'error',
      comment: 'db, queue, pubsub and storage are the bottom layer',
      // (their tests may check what the engine writes through them)
      from: { path: '^src/(db|queue|pubsub|storage)/', pathNot: '\\.test\\.ts$' },
      to: { path: '^src/(services|resolvers|schema|http|engine|pipeline|evaluation|cli)/' },
    },
    {
      name: 'pipeline-is-pure',
      severity: 'error',
      comment: 'the pipeline has no database, HTTP, queue or job code: it reads imaging and the model code only',
      from: { path: '^src/pipeline/' },
      to: { path: '^src/(db|queue|pubsub|http|resolvers|schema|services|storage|cli|evaluation|jobs)/|^src/engine/', pathNot: MODEL_CODE },
    },
    {
      name: 'models-and-imaging-not-upwards',
      severity: 'error',
      comment: 'the model code and imaging are below the pipeline',
      from: { path: `${MODEL_CODE}|^src/imaging/` },
      to: { path: '^src/(db|queue|pubsub|http|resolvers|schema|services|storage|cli|evaluation|jobs|pipeline)/|^src/engine/(handlers/|[^/]+\\.ts$)' },
    },
    {
      name: 'evaluation-only-from-cli-and-evaluate-job',
      severity: 'error',
      comment: 'the evaluation is an adapter around the pipeline for the CLI and the evaluate job (and its test); nothing else builds on it',
      from: { path: '^src/', pathNot: '^src/(evaluation|cli)/|^src/engine/handlers/evaluate\\.handler(\\.test)?\\.ts$' },
      to: { path: '^src/evaluation/' },
    },
    {
      name: 'evaluation-through-pipeline',
      severity: 'error',
      comment: 'the evaluation composes the pipeline; it has no database or engine process code of its own',
      from: { path: '^src/evaluation/' },
      to: { path: '^src/(db|queue|pubsub|http|resolvers|schema|storage|jobs)/|^src/engine/(handlers/|[^/]+\\.ts$)' },
    },
    {
      name: 'handlers-through-repositories',
      severity: 'error',
      comment: 'job handlers get repositories (src/db/repositories) and the pipeline; no SQL, no typeorm, no services ' +
        '(but the import job reads folder layouts with the same code the API checks them with: dataset-layouts.ts, pure file reading)',
      from: { path: '^src/engine/handlers/' },
      to: { path: '^src/db/(sql|database)\\.ts$|^src/services/|^node_modules/typeorm/', pathNot: '^src/services/dataset-layouts\\.ts$' },
    },
    ...folderOrder,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules|client-sdk)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js'] },
  },
};
